// Scenario scaffolding: clients with recorded frames, promise helpers around realtime-js callbacks,
// and a `scenario` wrapper that appends every client's frame log to a failing assertion.
import { test } from 'node:test'
import { RealtimeClient } from '@supabase/realtime-js'
import { FrameLog } from './frames.mjs'
import { recordingTransport } from './transport.mjs'
import { env } from './env.mjs'

export const TIMEOUT_MS = 5000

// scenario registers one node:test test. ctx.client(...) creates realtime-js clients that are
// disconnected afterwards; on failure the frames of all of them are appended to the error.
export function scenario(name, fn, { timeout = 30000 } = {}) {
  test(name, { timeout }, async () => {
    const ctx = new Context()
    try {
      await fn(ctx)
    } catch (err) {
      const dumps = ctx.logs.map((l) => l.dump()).join('\n')
      if (err && typeof err === 'object') {
        err.message = `${err.message}\n${dumps}`
        throw err
      }
      throw new Error(`${String(err)}\n${dumps}`)
    } finally {
      await ctx.close()
    }
  })
}

class Context {
  constructor() {
    this.clients = []
    this.logs = []
    this.cleanups = []
  }

  // defer registers fn to run when the scenario ends (for clients other than realtime-js).
  defer(fn) {
    this.cleanups.push(fn)
  }

  // log creates a FrameLog that is dumped on failure (for raw HTTP checks as well).
  log(name) {
    const l = new FrameLog(name)
    this.logs.push(l)
    return l
  }

  // client builds a RealtimeClient. opts: vsn ('1.0.0' | '2.0.0'), token, endpoint, host (Host
  // header selecting a tenant), plus any RealtimeClient option.
  client(name, opts = {}) {
    const { vsn = '2.0.0', token = env.tokens.valid, endpoint = env.wsURL, host, ...rest } = opts
    const log = this.log(`${name}/v${vsn[0]}`)
    const client = new RealtimeClient(endpoint, {
      params: { apikey: token },
      vsn,
      transport: recordingTransport(log, { host }),
      timeout: TIMEOUT_MS,
      // Retry quickly so a refused connection shows several attempts inside a scenario.
      reconnectAfterMs: () => 200,
      logger: (kind, msg) => {
        if (kind === 'transport' || kind === 'error') log.note(`realtime-js ${kind}: ${msg}`)
      },
      ...rest,
    })
    client.frames = log
    this.clients.push(client)
    return client
  }

  async close() {
    for (const fn of this.cleanups) {
      try {
        await Promise.race([fn(), sleep(2000)])
      } catch {
        // teardown only
      }
    }
    await Promise.all(
      this.clients.map(async (c) => {
        try {
          await Promise.race([c.removeAllChannels(), sleep(2000)])
          await Promise.race([c.disconnect(), sleep(2000)])
        } catch {
          // teardown only
        }
      })
    )
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

// subscribe joins a channel and resolves on SUBSCRIBED; any other first status rejects with the
// status and realtime-js's error message.
export function subscribe(channel, timeout = TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${channel.topic}: no SUBSCRIBED within ${timeout}ms`)), timeout)
    channel.subscribe((status, err) => {
      clearTimeout(timer)
      if (status === 'SUBSCRIBED') resolve(status)
      else reject(new Error(`${channel.topic}: expected SUBSCRIBED, got ${status}${err ? `: ${err.message}` : ''}`))
    })
  })
}

// subscribeStatuses joins a channel and records every status callback (for refusal scenarios).
export function subscribeStatuses(channel) {
  const statuses = []
  channel.subscribe((status, err) => statuses.push({ status, message: err?.message }))
  return statuses
}

// waitFor polls pred until it returns a truthy value.
export async function waitFor(pred, what, timeout = TIMEOUT_MS) {
  const deadline = Date.now() + timeout
  for (;;) {
    const v = await pred()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout}ms waiting for ${what}`)
    await sleep(20)
  }
}

// collect records every payload of a binding; returns the (growing) array.
export function collect(channel, type, filter = {}) {
  const got = []
  channel.on(type, filter, (payload) => got.push(payload))
  return got
}

// received waits until arr holds at least n items and returns them.
export async function received(arr, n, what, timeout = TIMEOUT_MS) {
  await waitFor(() => arr.length >= n, `${n} x ${what} (have ${arr.length})`, timeout)
  return arr
}

// rawUpgrade performs a WebSocket upgrade request by hand so the node's plain HTTP refusal
// (docs/protocol.md#connect-checks: status + JSON {"error": ...}) can be asserted exactly. Returns {status, headers, body}.
export async function rawUpgrade({ path = '/socket/websocket', query = {}, headers = {}, host } = {}) {
  const http = await import('node:http')
  const url = new URL(path, env.httpURL)
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...(host ? { Host: host } : {}),
        ...headers,
      },
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve({ status: res.statusCode, headers: res.headers, body: '' })
    })
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('raw upgrade timed out')))
    req.end()
  })
}

// httpRequest is a small fetch replacement that can set Host (undici's fetch forbids it).
export async function httpRequest(method, path, { headers = {}, body, host } = {}) {
  const http = await import('node:http')
  const url = new URL(path, env.httpURL)
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...(host ? { Host: host } : {}), ...headers } })
    req.on('response', (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
      )
    })
    req.on('error', reject)
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path} timed out`)))
    if (body !== undefined) req.write(body)
    req.end()
  })
}

let topicSeq = 0
// uniqueTopic avoids cross-talk between scenarios that run against the same node.
export function uniqueTopic(prefix) {
  topicSeq++
  return `${prefix}-${process.pid}-${topicSeq}-${Math.random().toString(36).slice(2, 8)}`
}
