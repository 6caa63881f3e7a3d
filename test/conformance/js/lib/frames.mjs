// Frame recording for failure reports. Every client in a scenario gets a FrameLog; its WebSocket
// transport (see transport.mjs) appends each frame sent and received, so a failing assertion can
// print exactly what went over the wire instead of only "timed out waiting for X".

const JWT_RE = /eyJ[\w-]+\.[\w-]+\.[\w-]*/g

// redact hides tokens: they are test-only, but a frame dump should still not be a token dump.
export function redact(s) {
  return String(s).replace(JWT_RE, '<jwt>')
}

export class FrameLog {
  constructor(name) {
    this.name = name
    this.t0 = Date.now()
    this.entries = []
  }

  add(dir, data) {
    this.entries.push({ ms: Date.now() - this.t0, dir, text: describe(data) })
  }

  note(text) {
    this.entries.push({ ms: Date.now() - this.t0, dir: '#', text: redact(text) })
  }

  // frames returns the recorded text frames parsed as JSON where possible, for assertions on the
  // exact wire shape (direction '<' = received from the server, '>' = sent by realtime-js).
  parsed(dir) {
    return this.entries
      .filter((e) => e.dir === dir && !e.text.startsWith('bin'))
      .map((e) => {
        try {
          return JSON.parse(e.text)
        } catch {
          return e.text
        }
      })
  }

  binaries(dir) {
    return this.entries.filter((e) => e.dir === dir && e.text.startsWith('bin'))
  }

  dump() {
    const lines = this.entries.map((e) => `  [${this.name} +${e.ms}ms] ${e.dir} ${e.text}`)
    return `frames of ${this.name} (> sent by realtime-js, < received from the node):\n` + lines.join('\n')
  }
}

const MAX_TEXT = 4000

function describe(data) {
  if (typeof data === 'string') {
    const t = redact(data)
    return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}… (${data.length} chars)` : t
  }
  const bytes = toBytes(data)
  if (!bytes) return redact(String(data))
  return describeBinary(bytes)
}

function toBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  return null
}

const dec = new TextDecoder()

// describeBinary renders V2 binary kinds 3 and 4 field by field (docs/protocol.md#v2-binary-frames) plus the raw hex.
export function describeBinary(b) {
  const hex = Buffer.from(b).toString('hex').replace(/(..)/g, '$1 ').trim()
  const shortHex = hex.length > 300 ? hex.slice(0, 300) + ' …' : hex
  try {
    if (b[0] === 3) {
      const [jr, r, tp, ev, md, enc] = [b[1], b[2], b[3], b[4], b[5], b[6]]
      let o = 7
      const take = (n) => dec.decode(b.slice(o, (o += n)))
      const f = { join_ref: take(jr), ref: take(r), topic: take(tp), event: take(ev), meta: take(md) }
      return `bin kind=3 enc=${enc} ${JSON.stringify(f)} payload=${payloadText(b.slice(o), enc)} | hex ${shortHex}`
    }
    if (b[0] === 4) {
      const [tp, ev, md, enc] = [b[1], b[2], b[3], b[4]]
      let o = 5
      const take = (n) => dec.decode(b.slice(o, (o += n)))
      const f = { topic: take(tp), event: take(ev), meta: take(md) }
      return `bin kind=4 enc=${enc} ${JSON.stringify(f)} payload=${payloadText(b.slice(o), enc)} | hex ${shortHex}`
    }
  } catch {
    // fall through to the raw form
  }
  return `bin kind=${b[0]} (not decodable by realtime-js unless 4) | hex ${shortHex}`
}

function payloadText(p, enc) {
  if (enc === 1) {
    const s = dec.decode(p)
    return redact(s.length > 200 ? s.slice(0, 200) + '…' : s)
  }
  return `<${p.length} bytes>`
}
