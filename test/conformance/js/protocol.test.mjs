// Socket-layer rules seen through the real client (docs/protocol.md#socket-lifecycle, #control-events, #client-contract items 4-6, #client-contract item 13). Frames the
// public API cannot produce are written with client.push (public) or, for malformed input, on the
// client's own WebSocket; realtime-js keeps running on that socket afterwards.
import assert from 'node:assert/strict'
import { scenario, subscribe, collect, received, waitFor, sleep, uniqueTopic } from './lib/scenario.mjs'

function v2(f) {
  return Array.isArray(f) ? { join_ref: f[0], ref: f[1], topic: f[2], event: f[3], payload: f[4] } : f
}

function repliesTo(client, ref) {
  return client.frames
    .parsed('<')
    .map(v2)
    .filter((f) => f.event === 'phx_reply' && f.ref === ref)
}

scenario('event for a topic not joined -> unmatched topic', async (ctx) => {
  const client = ctx.client('raw')
  await subscribe(client.channel(uniqueTopic('anchor')))
  client.push({ topic: 'realtime:not-joined', event: 'custom', payload: {}, ref: '900', join_ref: null })
  await waitFor(() => repliesTo(client, '900').length > 0, 'reply to ref 900')
  const [r] = repliesTo(client, '900')
  assert.deepEqual(r, {
    join_ref: null,
    ref: '900',
    topic: 'realtime:not-joined',
    event: 'phx_reply',
    payload: { status: 'error', response: { reason: 'unmatched topic' } },
  })
})

scenario('phx_join outside realtime: -> unmatched topic with null join_ref', async (ctx) => {
  const client = ctx.client('raw')
  await subscribe(client.channel(uniqueTopic('anchor')))
  client.push({ topic: 'other:room', event: 'phx_join', payload: { config: {} }, ref: '901', join_ref: '901' })
  await waitFor(() => repliesTo(client, '901').length > 0, 'reply to ref 901')
  const [r] = repliesTo(client, '901')
  assert.equal(r.join_ref, null)
  assert.deepEqual(r.payload, { status: 'error', response: { reason: 'unmatched topic' } })
})

scenario('phx_leave for a topic not joined -> ok', async (ctx) => {
  const client = ctx.client('raw')
  await subscribe(client.channel(uniqueTopic('anchor')))
  client.push({ topic: 'realtime:never-joined', event: 'phx_leave', payload: {}, ref: '902', join_ref: '902' })
  await waitFor(() => repliesTo(client, '902').length > 0, 'reply to ref 902')
  assert.deepEqual(repliesTo(client, '902')[0].payload, { status: 'ok', response: {} })
})

scenario('duplicate phx_join replaces the channel (phx_close for the old join_ref)', async (ctx) => {
  const topic = uniqueTopic('dup')
  const client = ctx.client('dup')
  const channel = client.channel(topic)
  await subscribe(channel)
  const oldJoinRef = channel.joinPush.ref
  client.push({ topic: `realtime:${topic}`, event: 'phx_join', payload: { config: {} }, ref: '950', join_ref: '950' })
  await waitFor(() => repliesTo(client, '950').length > 0, 'reply to the duplicate join')
  const frames = client.frames.parsed('<').map(v2)
  const closeAt = frames.findIndex((f) => f.event === 'phx_close')
  const replyAt = frames.findIndex((f) => f.event === 'phx_reply' && f.ref === '950')
  assert.ok(closeAt >= 0, 'no phx_close for the replaced channel')
  assert.deepEqual(frames[closeAt], { join_ref: oldJoinRef, ref: oldJoinRef, topic: `realtime:${topic}`, event: 'phx_close', payload: {} })
  assert.ok(closeAt < replyAt, 'phx_close of the old channel must precede the new join reply (docs/protocol.md#control-events)')
  assert.equal(frames[replyAt].payload.status, 'ok')
  assert.equal(frames[replyAt].join_ref, '950')
})

scenario('leave and join the same topic again on one socket', async (ctx) => {
  const topic = uniqueTopic('rejoin')
  const client = ctx.client('rejoiner')
  const first = client.channel(topic)
  await subscribe(first)
  assert.equal(await client.removeChannel(first), 'ok')
  const second = client.channel(topic)
  const got = collect(second, 'broadcast', { event: 'again' })
  await subscribe(second)
  const sender = ctx.client('sender').channel(topic)
  await subscribe(sender)
  await sender.send({ type: 'broadcast', event: 'again', payload: {} })
  await received(got, 1, 'broadcast after rejoin')
})

scenario('broadcast with a stale join_ref is still delivered (docs/protocol.md#control-events)', async (ctx) => {
  const topic = uniqueTopic('stale')
  const sender = ctx.client('sender', { vsn: '1.0.0' })
  await subscribe(sender.channel(topic, { config: { broadcast: { ack: true } } }))
  const receiver = ctx.client('receiver').channel(topic)
  const got = collect(receiver, 'broadcast', { event: 'stale' })
  await subscribe(receiver)
  sender.push({
    topic: `realtime:${topic}`,
    event: 'broadcast',
    payload: { type: 'broadcast', event: 'stale', payload: { n: 1 } },
    ref: '960',
    join_ref: 'not-the-join-ref',
  })
  await received(got, 1, 'broadcast pushed with a stale join_ref')
  await waitFor(() => repliesTo(sender, '960').length > 0, 'ack for the stale-join_ref push')
  assert.deepEqual(repliesTo(sender, '960')[0].payload, { status: 'ok', response: {} })
})

scenario('malformed frames are dropped and the socket keeps working', async (ctx) => {
  const topic = uniqueTopic('malformed')
  const client = ctx.client('garbage')
  const channel = client.channel(topic, { config: { broadcast: { ack: true, self: true } } })
  const own = collect(channel, 'broadcast', { event: 'after' })
  await subscribe(channel)
  const bystander = ctx.client('bystander').channel(topic)
  const seen = collect(bystander, 'broadcast', { event: 'after' })
  await subscribe(bystander)

  const conn = client.socketAdapter.getSocket().conn
  for (const bad of ['', 'not json', '{"topic":"x","event":"y","payload":{},"ref":"1"}', '[1,2]', '["1","2","realtime:x"]', '"str"', 'null']) {
    conn.send(bad)
  }
  for (const bad of [[9, 9, 9], [3, 200, 1, 1, 1, 0, 1], [4, 1, 1, 0, 1], [3], [0]]) {
    conn.send(new Uint8Array(bad).buffer)
  }
  await sleep(300)
  assert.ok(client.isConnected(), 'malformed frames must not close the socket (docs/protocol.md#socket-lifecycle)')
  assert.equal(await channel.send({ type: 'broadcast', event: 'after', payload: { ok: 1 } }), 'ok')
  await received(own, 1, 'own broadcast after garbage')
  await received(seen, 1, 'bystander broadcast after garbage')
})

scenario('frame over 5 MB closes only that socket', async (ctx) => {
  const topic = uniqueTopic('huge')
  const client = ctx.client('huge')
  const channel = client.channel(topic)
  await subscribe(channel)
  const bystanderClient = ctx.client('bystander')
  const bystander = bystanderClient.channel(topic)
  const seen = collect(bystander, 'broadcast', { event: 'still' })
  await subscribe(bystander)
  const conn = client.socketAdapter.getSocket().conn
  const closed = new Promise((resolve) => conn.addEventListener('close', (e) => resolve(e.code)))
  conn.send(JSON.stringify([null, '990', `realtime:${topic}`, 'custom', { s: 'x'.repeat(5_100_000) }]))
  const code = await Promise.race([closed, sleep(5000).then(() => 'not closed')])
  client.frames.note(`close code ${code}`)
  assert.notEqual(code, 'not closed', 'a frame above 5,000,000 bytes must close the connection (docs/protocol.md#http-routes)')
  // The spec fixes no close code; Cowboy sends 1009 (message too big). Reported, not asserted.
  assert.ok(bystanderClient.isConnected())
  const sender = ctx.client('sender').channel(topic)
  await subscribe(sender)
  await sender.send({ type: 'broadcast', event: 'still', payload: {} })
  await received(seen, 1, 'bystander still receives')
})
