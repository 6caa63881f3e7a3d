// REST broadcast received by sockets: channel.httpSend (docs/protocol.md#rest-single-broadcast), POST /api/broadcast (#rest-batch-broadcast),
// realtime-js's REST fallback of send(), errors and CORS (docs/protocol.md#client-contract item 20).
import assert from 'node:assert/strict'
import { env } from './lib/env.mjs'
import { scenario, subscribe, collect, received, sleep, httpRequest, uniqueTopic } from './lib/scenario.mjs'

async function receivers(ctx, topic, event) {
  const v2Client = ctx.client('v2')
  const v1Client = ctx.client('v1', { vsn: '1.0.0' })
  const v2 = v2Client.channel(topic)
  const v1 = v1Client.channel(topic)
  const got = { v2: collect(v2, 'broadcast', { event }), v1: collect(v1, 'broadcast', { event }), v2Client, v1Client }
  await subscribe(v2)
  await subscribe(v1)
  return got
}

scenario('channel.httpSend JSON -> 202 and received (V1 and V2)', async (ctx) => {
  const topic = uniqueTopic('http send/ü')
  const got = await receivers(ctx, topic, 'note')
  const sender = ctx.client('sender').channel(topic)
  const res = await sender.httpSend('note', { text: 'hi', n: 2 })
  assert.deepEqual(res, { success: true })
  await received(got.v2, 1, 'httpSend at V2')
  await received(got.v1, 1, 'httpSend at V1')
  const want = { type: 'broadcast', event: 'note', payload: { text: 'hi', n: 2 } }
  assert.deepEqual(got.v2[0], want)
  assert.deepEqual(got.v1[0], want)
  assert.ok(
    got.v2Client.frames.binaries('<').some((b) => b.text.startsWith('bin kind=4 enc=1')),
    'single REST broadcast reaches V2 sockets as kind 4 JSON (docs/protocol.md#broadcast-delivery)'
  )
})

scenario('channel.httpSend ArrayBuffer -> V2 only', async (ctx) => {
  const topic = uniqueTopic('http-bin')
  const got = await receivers(ctx, topic, 'blob')
  const sender = ctx.client('sender').channel(topic)
  const bytes = new Uint8Array([9, 8, 7, 0, 255])
  assert.deepEqual(await sender.httpSend('blob', bytes.buffer), { success: true })
  await received(got.v2, 1, 'binary httpSend at V2')
  assert.ok(got.v2[0].payload instanceof ArrayBuffer)
  assert.deepEqual([...new Uint8Array(got.v2[0].payload)], [...bytes])
  await sleep(300)
  assert.equal(got.v1.length, 0, 'binary broadcasts are not delivered to V1')
})

for (const base of ['/api/broadcast', '/realtime/v1/api/broadcast']) {
  scenario(`POST ${base} -> 202 and received, id becomes meta.id`, async (ctx) => {
    const topic = uniqueTopic('batch')
    const got = await receivers(ctx, topic, 'cursor')
    const body = JSON.stringify({
      messages: [
        { topic, event: 'cursor', payload: { x: 1 } },
        { topic, event: 'cursor', payload: { x: 2 }, id: 'client-chosen-id' },
      ],
    })
    const res = await httpRequest('POST', base, {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${env.tokens.valid}` },
      body,
    })
    ctx.log('http').note(`POST ${base} -> ${res.status} ${res.body}`)
    assert.equal(res.status, 202)
    assert.equal(res.body, '')
    assert.equal(res.headers['access-control-allow-origin'], '*')
    await received(got.v2, 2, 'batch broadcasts at V2')
    await received(got.v1, 2, 'batch broadcasts at V1')
    for (const g of [got.v1, got.v2]) {
      assert.deepEqual(g[0], { type: 'broadcast', event: 'cursor', payload: { x: 1 } })
      assert.deepEqual(g[1], { type: 'broadcast', event: 'cursor', payload: { x: 2 }, meta: { id: 'client-chosen-id' } })
    }
  })
}

scenario('POST /api/broadcast with apikey header', async () => {
  const res = await httpRequest('POST', '/api/broadcast', {
    headers: { 'Content-Type': 'application/json', apikey: env.tokens.valid },
    body: JSON.stringify({ messages: [{ topic: uniqueTopic('apikey'), event: 'e', payload: {} }] }),
  })
  assert.equal(res.status, 202)
})

scenario('send() before joining falls back to POST /api/broadcast', async (ctx) => {
  const topic = uniqueTopic('fallback')
  const got = await receivers(ctx, topic, 'late')
  const client = ctx.client('fallback')
  const channel = client.channel(topic) // never subscribed: realtime-js uses REST
  assert.equal(await channel.send({ type: 'broadcast', event: 'late', payload: { via: 'rest' } }), 'ok')
  await received(got.v2, 1, 'fallback broadcast at V2')
  assert.deepEqual(got.v2[0], { type: 'broadcast', event: 'late', payload: { via: 'rest' } })
})

const restErrors = [
  {
    name: 'bad token',
    path: '/api/broadcast',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${env.tokens.badSignature}` },
    body: JSON.stringify({ messages: [{ topic: 't', event: 'e', payload: {} }] }),
    status: 401,
    json: { message: 'Unauthorized' },
  },
  {
    name: 'expired token',
    path: '/api/broadcast/room/events/e',
    headers: { 'Content-Type': 'application/json', apikey: env.tokens.expired },
    body: '{}',
    status: 401,
    json: { message: 'Unauthorized' },
  },
  {
    name: 'missing token',
    path: '/api/broadcast',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ topic: 't', event: 'e', payload: {} }] }),
    status: 401,
    json: { message: 'Unauthorized' },
  },
  {
    name: 'unsupported media type',
    path: '/api/broadcast/room/events/e',
    headers: { 'Content-Type': 'text/plain', apikey: env.tokens.valid },
    body: 'hello',
    status: 415,
    json: { error: 'Unsupported Media Type. Use application/json or application/octet-stream' },
  },
  {
    name: 'validation errors',
    path: '/api/broadcast',
    headers: { 'Content-Type': 'application/json', apikey: env.tokens.valid },
    body: JSON.stringify({ messages: [{ topic: 't' }, { topic: 't', event: 'e', payload: {} }] }),
    status: 422,
    json: { errors: { messages: [{ payload: ["can't be blank"], event: ["can't be blank"] }, {}] } },
  },
  {
    name: 'unknown tenant',
    path: '/api/broadcast',
    host: 'unknown',
    headers: { 'Content-Type': 'application/json', apikey: env.tokens.valid },
    body: JSON.stringify({ messages: [{ topic: 't', event: 'e', payload: {} }] }),
    status: 401,
    json: { message: 'Tenant not found in database' },
  },
]

for (const e of restErrors) {
  scenario(`REST error: ${e.name} -> ${e.status}`, async (ctx) => {
    const host = e.host === 'unknown' ? env.hosts.unknown : undefined
    const res = await httpRequest('POST', e.path, { headers: e.headers, body: e.body, host })
    ctx.log('http').note(`POST ${e.path} -> ${res.status} ${res.body}`)
    assert.equal(res.status, e.status)
    assert.deepEqual(JSON.parse(res.body), e.json)
  })
}

scenario('CORS preflight on the REST endpoints', async (ctx) => {
  const res = await httpRequest('OPTIONS', '/api/broadcast/room/events/e', {
    headers: {
      Origin: 'http://example.test',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'apikey, authorization, content-type',
    },
  })
  ctx.log('http').note(`OPTIONS -> ${res.status} ${JSON.stringify(res.headers)}`)
  assert.ok(res.status >= 200 && res.status < 300, `preflight status ${res.status}`)
  assert.equal(res.headers['access-control-allow-origin'], '*')
})
