// Limits produce upstream's errors (docs/protocol.md#join-pipeline, #client-broadcast, #presence-events, #limits). Tenants with small limits are
// reached through a Host header (docs/protocol.md#tenant-from-host); see the tenants file written by the Go harness.
import assert from 'node:assert/strict'
import { env } from './lib/env.mjs'
import {
  scenario,
  subscribe,
  subscribeStatuses,
  collect,
  received,
  waitFor,
  sleep,
  rawUpgrade,
  httpRequest,
  uniqueTopic,
} from './lib/scenario.mjs'

function limitedClient(ctx, name, opts = {}) {
  return ctx.client(name, { host: env.hosts.limited, token: env.otherToken, ...opts })
}

scenario('maxChannelsPerClient: 1 -> second join refused', async (ctx) => {
  const client = limitedClient(ctx, 'two-channels')
  await subscribe(client.channel(uniqueTopic('first')))
  const statuses = subscribeStatuses(client.channel(uniqueTopic('second')))
  await waitFor(() => statuses.length > 0, 'status of the second join')
  assert.equal(statuses[0].status, 'CHANNEL_ERROR')
  assert.equal(statuses[0].message, 'ChannelRateLimitReached: Too many channels')
  const reply = client.frames
    .parsed('<')
    .find((f) => Array.isArray(f) && f[3] === 'phx_reply' && f[4]?.status === 'error')
  assert.deepEqual(reply[4], { status: 'error', response: { reason: 'ChannelRateLimitReached: Too many channels' } })
})

for (const vsn of ['1.0.0', '2.0.0']) {
  scenario(`payload over maxPayloadSizeInKb with ack -> error reply (vsn ${vsn})`, async (ctx) => {
    const topic = uniqueTopic('payload')
    const client = limitedClient(ctx, 'big-sender', { vsn })
    const channel = client.channel(topic, { config: { broadcast: { ack: true } } })
    const receiverChannel = limitedClient(ctx, 'receiver').channel(topic)
    const got = collect(receiverChannel, 'broadcast', { event: '*' })
    await subscribe(receiverChannel)
    await subscribe(channel)

    const limit = env.limitedPayloadKB * 1000 + 500
    assert.equal(await channel.send({ type: 'broadcast', event: 'big', payload: { s: 'x'.repeat(limit + 100) } }), 'error')
    const reply = client.frames
      .parsed('<')
      .map((f) => (Array.isArray(f) ? f[4] : f.payload))
      .find((p) => p?.status === 'error')
    assert.deepEqual(reply, { status: 'error', response: 'payload_size_exceeded' })

    assert.equal(await channel.send({ type: 'broadcast', event: 'small', payload: { s: 'ok' } }), 'ok')
    await received(got, 1, 'the small message')
    await sleep(200)
    assert.deepEqual(
      got.map((m) => m.event),
      ['small'],
      'the oversized message must not be delivered'
    )
  })
}

scenario('payload over the limit without ack is dropped silently', async (ctx) => {
  const topic = uniqueTopic('payload-noack')
  const client = limitedClient(ctx, 'big-sender')
  const channel = client.channel(topic)
  const receiverChannel = limitedClient(ctx, 'receiver').channel(topic)
  const got = collect(receiverChannel, 'broadcast', { event: '*' })
  await subscribe(receiverChannel)
  await subscribe(channel)
  await channel.send({ type: 'broadcast', event: 'big', payload: { s: 'x'.repeat(env.limitedPayloadKB * 1000 + 600) } })
  await channel.send({ type: 'broadcast', event: 'small', payload: {} })
  await received(got, 1, 'the small message')
  await sleep(200)
  assert.deepEqual(got.map((m) => m.event), ['small'])
  assert.ok(client.isConnected(), 'the sender stays connected')
  assert.equal(channel.state, 'joined')
})

scenario('maxConcurrentUsers: 1 -> second socket refused with 429', async (ctx) => {
  const first = ctx.client('first', { host: env.hosts.oneUser, token: env.otherToken })
  await subscribe(first.channel(uniqueTopic('users')))
  // Counted users are sockets with at least one joined channel (docs/protocol.md#connect-checks step 5).
  const res = await rawUpgrade({ query: { apikey: env.otherToken, vsn: '2.0.0' }, host: env.hosts.oneUser })
  ctx.log('http').note(`second upgrade -> ${res.status} ${res.body}`)
  assert.equal(res.status, 429)
  assert.deepEqual(JSON.parse(res.body), { error: 'Too many connected users' })

  const second = ctx.client('second', { host: env.hosts.oneUser, token: env.otherToken })
  const statuses = subscribeStatuses(second.channel(uniqueTopic('users')))
  await waitFor(() => statuses.some((s) => s.status === 'CHANNEL_ERROR'), 'CHANNEL_ERROR for the refused socket')
  assert.ok(!statuses.some((s) => s.status === 'SUBSCRIBED'))
})

scenario('empty topic -> TopicNameRequired', async (ctx) => {
  const client = ctx.client('empty-topic')
  await subscribe(client.channel(uniqueTopic('keepalive')))
  const statuses = subscribeStatuses(client.channel(''))
  await waitFor(() => statuses.length > 0, 'status of the empty-topic join')
  assert.equal(statuses[0].status, 'CHANNEL_ERROR')
  assert.equal(statuses[0].message, 'TopicNameRequired: You must provide a topic name')
})

scenario('client presence limit -> Client presence rate limit exceeded', async (ctx) => {
  const client = ctx.client('tracker')
  const channel = client.channel(uniqueTopic('presence-limit'))
  const system = collect(channel, 'system')
  const statuses = subscribeStatuses(channel)
  await waitFor(() => statuses.some((s) => s.status === 'SUBSCRIBED'), 'SUBSCRIBED')
  // Default: 5 presence messages per 30 s window; the 6th shuts the channel down (docs/protocol.md#presence-events).
  for (let i = 0; i < 5; i++) assert.equal(await channel.track({ i }), 'ok', `track #${i + 1}`)
  channel.track({ i: 5 }).catch(() => {})
  await received(system, 1, 'system message after the 6th presence call')
  assert.deepEqual(system[0], {
    extension: 'system',
    status: 'error',
    message: 'Client presence rate limit exceeded',
    channel: channel.subTopic,
  })
  await waitFor(() => statuses.some((s) => s.status === 'CLOSED'), 'CLOSED')
})

scenario('unknown presence event -> error reply', async (ctx) => {
  const client = ctx.client('presence-bogus')
  const channel = client.channel(uniqueTopic('presence-bogus'))
  await subscribe(channel)
  assert.equal(await channel.send({ type: 'presence', event: 'bogus', payload: {} }), 'error')
  const reply = client.frames.parsed('<').find((f) => f[3] === 'phx_reply' && f[4].status === 'error')
  assert.deepEqual(reply[4], { status: 'error', response: {} })
})

scenario('maxEventsPerSecond -> Too many messages per second', async (ctx) => {
  // The tenant rate counter ticks every 5 s (docs/protocol.md#limits); once triggered, receiving channels shut
  // down with a system error. This waits for at most ~2 ticks.
  const host = env.hosts.rateLimited
  const topic = uniqueTopic('events')
  const sender = ctx.client('sender', { host, token: env.otherToken }).channel(topic)
  const receiver = ctx.client('receiver', { host, token: env.otherToken }).channel(topic)
  const system = collect(receiver, 'system')
  const statuses = subscribeStatuses(receiver)
  await waitFor(() => statuses.some((s) => s.status === 'SUBSCRIBED'), 'receiver SUBSCRIBED')
  await subscribe(sender)
  const deadline = Date.now() + 14000
  while (system.length === 0 && Date.now() < deadline) {
    await sender.send({ type: 'broadcast', event: 'spam', payload: { t: Date.now() } })
    await sleep(100)
  }
  await received(system, 1, 'system message from the events limiter', 1000)
  assert.equal(system[0].status, 'error')
  assert.equal(system[0].message, 'Too many messages per second')
  await waitFor(() => statuses.some((s) => s.status === 'CLOSED'), 'CLOSED')

  // REST broadcasts of the tenant are refused while the events limiter is over the limit (docs/protocol.md#rest-batch-broadcast).
  const res = await httpRequest('POST', '/api/broadcast', {
    host,
    headers: { 'Content-Type': 'application/json', apikey: env.otherToken },
    body: JSON.stringify({ messages: [{ topic, event: 'rest', payload: {} }] }),
  })
  ctx.log('http').note(`POST /api/broadcast while limited -> ${res.status} ${res.body}`)
  assert.equal(res.status, 429)
  assert.deepEqual(JSON.parse(res.body), { message: 'You have exceeded your rate limit' })
}, { timeout: 30000 })
