// Connect, heartbeat, join reply, leave — with both serializers and both socket paths.
import assert from 'node:assert/strict'
import { env } from './lib/env.mjs'
import { scenario, subscribe, subscribeStatuses, waitFor, uniqueTopic, sleep } from './lib/scenario.mjs'

for (const vsn of ['1.0.0', '2.0.0']) {
  scenario(`connect and join (vsn ${vsn})`, async (ctx) => {
    const client = ctx.client('a', { vsn })
    const topic = uniqueTopic('join')
    const channel = client.channel(topic)
    await subscribe(channel)
    assert.equal(client.isConnected(), true)
    assert.equal(channel.state, 'joined')

    // The join reply must be {"status":"ok","response":{"postgres_changes":[]}} (docs/protocol.md#join-reply, #client-contract item 11)
    // with the join's refs echoed (docs/protocol.md#client-contract item 5).
    const sent = client.frames.parsed('>').map((f) => norm(f, vsn)).find((f) => f.event === 'phx_join')
    const reply = client.frames
      .parsed('<')
      .map((f) => norm(f, vsn))
      .find((f) => f.event === 'phx_reply' && f.ref === sent.ref)
    assert.ok(reply, 'no phx_reply for the phx_join ref')
    assert.equal(reply.topic, `realtime:${topic}`)
    assert.deepEqual(reply.payload, { status: 'ok', response: { postgres_changes: [] } })
    if (vsn === '2.0.0') assert.equal(reply.join_ref, sent.join_ref, 'V2 reply join_ref must echo the join')
    else assert.equal(reply.join_ref, undefined, 'V1 encoder never writes join_ref (docs/protocol.md#v1-frames)')
  })

  scenario(`heartbeat reply (vsn ${vsn})`, async (ctx) => {
    const statuses = []
    const client = ctx.client('hb', { vsn, heartbeatCallback: (s) => statuses.push(s) })
    await subscribe(client.channel(uniqueTopic('hb')))
    client.sendHeartbeat()
    await waitFor(() => statuses.includes('ok'), 'heartbeat status ok')
    const hb = client.frames.parsed('<').map((f) => norm(f, vsn)).find((f) => f.topic === 'phoenix')
    assert.equal(hb.event, 'phx_reply')
    assert.deepEqual(hb.payload, { status: 'ok', response: {} })
  })

  scenario(`leave (vsn ${vsn})`, async (ctx) => {
    const client = ctx.client('leaver', { vsn })
    const channel = client.channel(uniqueTopic('leave'))
    await subscribe(channel)
    assert.equal(await channel.unsubscribe(), 'ok')
    assert.equal(channel.state, 'closed')
  })
}

for (const path of ['/socket', '/realtime/v1']) {
  scenario(`endpoint ${path}/websocket`, async (ctx) => {
    const origin = env.wsURL.replace(/\/(socket|realtime\/v1)$/, '')
    const client = ctx.client('path', { endpoint: origin + path })
    await subscribe(client.channel(uniqueTopic('path')))
  })
}

scenario('rejoin after the transport drops', async (ctx) => {
  // realtime-js reconnects and rejoins its topics after a drop it did not initiate (docs/protocol.md#client-contract item 3).
  const client = ctx.client('re')
  const channel = client.channel(uniqueTopic('rejoin'))
  await subscribe(channel)
  client.socketAdapter.getSocket().conn.close(4000, 'test forces reconnect')
  await sleep(100)
  await waitFor(() => channel.state === 'joined' && client.isConnected(), 'rejoined after reconnect', 8000)
})

// norm turns a recorded text frame of either serializer into {join_ref, ref, topic, event, payload}.
function norm(f, vsn) {
  if (vsn === '2.0.0' && Array.isArray(f)) {
    const [join_ref, ref, topic, event, payload] = f
    return { join_ref, ref, topic, event, payload }
  }
  return f
}

scenario('private channel without a tenant database -> clear join error', async (ctx) => {
  // Private channels need RLS in the tenant database (docs/protocol.md#private-channels); this tenant has none, so the join
  // must fail fast with a "<Code>: <message>" reason (docs/protocol.md#client-contract item 12), not time out.
  const client = ctx.client('private')
  const statuses = subscribeStatuses(client.channel(uniqueTopic('private'), { config: { private: true } }))
  await waitFor(() => statuses.length > 0, 'status of the private join')
  assert.equal(statuses[0].status, 'CHANNEL_ERROR')
  assert.match(statuses[0].message, /^[A-Za-z]+: \S/)
})
