// Helpers for multi-node scenarios. Clients, frame recording and the promise helpers come from the
// conformance suite (test/conformance/js/lib), whose imports of @supabase/realtime-js and ws
// resolve from test/conformance/node_modules; this file adds what a cluster needs: which node a
// client talks to, the Go control server (kill, restart, partition, heal), presence snapshots.
import assert from 'node:assert/strict'
import { TIMEOUT_MS } from '../../../conformance/js/lib/scenario.mjs'

export {
  scenario,
  subscribe,
  subscribeStatuses,
  collect,
  received,
  waitFor,
  sleep,
  uniqueTopic,
  TIMEOUT_MS,
} from '../../../conformance/js/lib/scenario.mjs'

function need(name) {
  const v = process.env[name]
  if (v === undefined || v === '') {
    throw new Error(`environment variable ${name} is not set; run the scenarios through "go test ./test/cluster/"`)
  }
  return v
}

// num reads a numeric environment variable (durations are in milliseconds).
export function num(name) {
  return Number(need(name))
}

let nodesCache
// node returns {name, region, ws, http} of the node with short id (n1, n2, ...).
export function node(id) {
  nodesCache ??= JSON.parse(need('RT_NODES'))
  const n = nodesCache[id]
  if (!n) throw new Error(`unknown node ${id}; have ${Object.keys(nodesCache)}`)
  return n
}

// clientOn creates a realtime-js client connected to node id (default tenant token unless given).
export function clientOn(ctx, name, id, opts = {}) {
  return ctx.client(`${name}@${id}`, { endpoint: node(id).ws, token: need('RT_TOKEN'), ...opts })
}

// control asks the Go side for an operation (kill, restart, partition, heal, wait-mesh, ...).
export async function control(op, args = {}) {
  const res = await fetch(`${need('RT_CONTROL_URL')}/${op}`, { method: 'POST', body: JSON.stringify(args) })
  const body = await res.json()
  if (res.status !== 200) throw new Error(`control ${op} ${JSON.stringify(args)} failed: ${body.error}`)
  return body.result
}

// status returns GET /status of node id (served on the node's admin listener).
export async function status(id) {
  const res = await fetch(`${node(id).admin}/status`)
  assert.equal(res.status, 200, `/status of ${id}`)
  return res.json()
}

// watchPresence records presence events (and makes realtime-js join with presence enabled).
export function watchPresence(channel) {
  const ev = { sync: 0, joins: [], leaves: [] }
  channel.on('presence', { event: 'sync' }, () => ev.sync++)
  channel.on('presence', { event: 'join' }, (p) => ev.joins.push({ ...p, at: Date.now() }))
  channel.on('presence', { event: 'leave' }, (p) => ev.leaves.push({ ...p, at: Date.now() }))
  return ev
}

export function presenceKeys(channel) {
  return Object.keys(channel.presenceState()).sort()
}

// presenceSnapshot is a channel's presence state in a comparable form: key -> metas sorted by
// presence_ref (refs are assigned by the owning node and replicated, so they must match).
export function presenceSnapshot(channel) {
  const out = {}
  for (const [key, metas] of Object.entries(channel.presenceState()).sort(([a], [b]) => a.localeCompare(b))) {
    out[key] = [...metas].sort((a, b) => String(a.presence_ref).localeCompare(String(b.presence_ref)))
  }
  return out
}

// rawUpgrade performs a WebSocket upgrade against node id by hand and returns {status, body}, so a
// refused connect (docs/protocol.md#connect-checks: HTTP status + JSON error) can be asserted exactly.
export async function rawUpgrade(id, query) {
  const http = await import('node:http')
  const url = new URL('/socket/websocket', node(id).http)
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve({ status: res.statusCode, body: '' })
    })
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode, body }))
    })
    req.on('error', reject)
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('raw upgrade timed out')))
    req.end()
  })
}

export function token() {
  return need('RT_TOKEN')
}
