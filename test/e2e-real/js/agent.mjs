// A long-lived realtime-js driver for test/e2e-real: the Go test writes one JSON command per line on
// stdin and reads one JSON event per line on stdout. It uses the unmodified @supabase/realtime-js
// pinned by the conformance suite (resolved from test/conformance/node_modules), with the `ws`
// package as transport (Node 20 has no global WebSocket) sending the Host header that selects the
// tenant, because clients connect to Service and pod IPs.
//
// Commands: {op: client, id, url, host, token} | {op: changes, id, topic, table}
//           {op: broadcast, id, topic, private} | {op: send, id, topic, event, payload}
//           {op: presence, id, topic, key} | {op: close, id}
// Events:   {ev: status|system|change|broadcast|presence|transport|error, id, topic, ...}
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'

const require = createRequire(new URL('../../conformance/package.json', import.meta.url))
const { RealtimeClient } = require('@supabase/realtime-js')
const WebSocket = require('ws')

const emit = (e) => process.stdout.write(JSON.stringify({ ...e, t: Date.now() }) + '\n')
const clients = new Map() // id -> RealtimeClient
const channels = new Map() // id/topic -> RealtimeChannel

function transport(id, host) {
  return class HostWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { headers: { Host: host } })
      this.on('open', () => emit({ ev: 'transport', id, what: 'open', url }))
      this.on('close', (code) => emit({ ev: 'transport', id, what: 'close', code }))
      this.on('error', (err) => emit({ ev: 'transport', id, what: 'error', error: err.message }))
    }
  }
}

function channel(id, topic, config, bind) {
  const ch = clients.get(id).channel(topic, { config })
  bind(ch)
  channels.set(`${id}/${topic}`, ch)
  ch.subscribe(async (status, err) => {
    emit({ ev: 'status', id, topic, status, error: err?.message })
    if (status === 'SUBSCRIBED' && config.presence?.key) await ch.track({ key: config.presence.key })
  })
}

const ops = {
  client({ id, url, host, token }) {
    clients.set(id, new RealtimeClient(url, { params: { apikey: token }, transport: transport(id, host), heartbeatIntervalMs: 5000 }))
  },
  // The join reply comes first; "Subscribed to PostgreSQL" (a system message) says the stream
  // delivers the next commit, so the tests count rows from that event on (as upstream documents).
  changes({ id, topic, table }) {
    channel(id, topic, {}, (ch) =>
      ch
        .on('postgres_changes', { event: 'INSERT', schema: 'public', table }, (p) => emit({ ev: 'change', id, topic, row: p.new.id }))
        .on('system', {}, (m) => emit({ ev: 'system', id, topic, status: m.status, message: m.message, extension: m.extension }))
    )
  },
  broadcast({ id, topic, private: priv = false }) {
    channel(id, topic, { broadcast: { self: false }, private: priv }, (ch) =>
      ch.on('broadcast', { event: '*' }, (m) => emit({ ev: 'broadcast', id, topic, event: m.event, payload: m.payload }))
    )
  },
  async send({ id, topic, event, payload }) {
    const r = await channels.get(`${id}/${topic}`).send({ type: 'broadcast', event, payload })
    emit({ ev: 'sent', id, topic, status: r })
  },
  presence({ id, topic, key }) {
    channel(id, topic, { presence: { key } }, (ch) =>
      ch.on('presence', { event: 'sync' }, () => emit({ ev: 'presence', id, topic, keys: Object.keys(ch.presenceState()).sort() }))
    )
  },
  async close({ id }) {
    const c = clients.get(id)
    clients.delete(id)
    if (c) await c.removeAllChannels()
    c?.disconnect()
    emit({ ev: 'closed', id })
  },
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  let cmd
  try {
    cmd = JSON.parse(line)
    await ops[cmd.op](cmd)
  } catch (err) {
    emit({ ev: 'error', id: cmd?.id, error: String(err?.stack || err) })
  }
})
process.stdin.on('end', () => process.exit(0))
