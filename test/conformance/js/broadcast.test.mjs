// Broadcast between realtime-js clients: serializer matrix, self, ack, binary payloads (docs/protocol.md#client-broadcast,
// #broadcast-delivery, #v2-binary-frames, #client-contract items 8-10 and 14-15).
import assert from 'node:assert/strict'
import { scenario, subscribe, collect, received, sleep, uniqueTopic } from './lib/scenario.mjs'

const VSNS = ['1.0.0', '2.0.0']

for (const from of VSNS) {
  for (const to of VSNS) {
    scenario(`broadcast JSON v${from[0]} sender -> v${to[0]} receiver`, async (ctx) => {
      const topic = uniqueTopic('bc')
      const sender = ctx.client('sender', { vsn: from }).channel(topic)
      const receiverClient = ctx.client('receiver', { vsn: to })
      const receiver = receiverClient.channel(topic)
      const got = collect(receiver, 'broadcast', { event: 'cursor' })
      const other = collect(receiver, 'broadcast', { event: 'other' })
      await subscribe(receiver)
      await subscribe(sender)

      const payload = { x: 1, nested: { s: 'héllo', arr: [1, 2, 3], n: null } }
      assert.equal(await sender.send({ type: 'broadcast', event: 'cursor', payload }), 'ok')
      await received(got, 1, 'cursor broadcast')
      // realtime-js hands listeners the whole inner object (docs/protocol.md#broadcast-delivery, #client-contract item 14).
      assert.deepEqual(got[0], { type: 'broadcast', event: 'cursor', payload })
      assert.equal(other.length, 0, 'listener for another event must not fire')

      // Fan-out frames carry null refs and the receiver's own topic (docs/protocol.md#broadcast-delivery).
      if (to === '2.0.0' && from === '2.0.0') {
        const bins = receiverClient.frames.binaries('<')
        assert.ok(bins.some((b) => b.text.startsWith('bin kind=4 enc=1')), 'V2->V2 JSON must arrive as kind 4, encoding 1')
      } else {
        const frame = receiverClient.frames
          .parsed('<')
          .map((f) => (Array.isArray(f) ? { join_ref: f[0], ref: f[1], topic: f[2], event: f[3] } : f))
          .find((f) => f.event === 'broadcast')
        assert.ok(frame, 'no text broadcast frame received')
        assert.equal(frame.topic, `realtime:${topic}`)
        assert.equal(frame.ref, null)
        if (to === '2.0.0') assert.equal(frame.join_ref, null)
      }
    })
  }
}

for (const self of [true, false]) {
  scenario(`broadcast self: ${self}`, async (ctx) => {
    const topic = uniqueTopic('self')
    const sender = ctx.client('sender').channel(topic, { config: { broadcast: { self } } })
    const receiver = ctx.client('receiver').channel(topic)
    const own = collect(sender, 'broadcast', { event: 'ping' })
    const theirs = collect(receiver, 'broadcast', { event: 'ping' })
    await subscribe(receiver)
    await subscribe(sender)
    await sender.send({ type: 'broadcast', event: 'ping', payload: { n: 1 } })
    await received(theirs, 1, 'ping at the other client')
    if (self) {
      await received(own, 1, 'own ping (self: true)')
      assert.deepEqual(own[0], { type: 'broadcast', event: 'ping', payload: { n: 1 } })
    } else {
      await sleep(300)
      assert.equal(own.length, 0, 'self: false must not echo to the sender')
    }
  })
}

for (const vsn of VSNS) {
  scenario(`broadcast ack (vsn ${vsn})`, async (ctx) => {
    const topic = uniqueTopic('ack')
    const client = ctx.client('acker', { vsn })
    const channel = client.channel(topic, { config: { broadcast: { ack: true } } })
    await subscribe(channel)
    assert.equal(await channel.send({ type: 'broadcast', event: 'e', payload: { a: 1 } }), 'ok')
    const replies = client.frames
      .parsed('<')
      .map((f) => (Array.isArray(f) ? { ref: f[1], topic: f[2], event: f[3], payload: f[4] } : f))
      .filter((f) => f.event === 'phx_reply' && f.topic !== 'phoenix') // not heartbeat replies
    // Two replies: the join and the acked broadcast (docs/protocol.md#client-broadcast step 5).
    assert.equal(replies.length, 2, `expected join reply + broadcast ack, got ${replies.length} replies`)
    assert.deepEqual(replies[1].payload, { status: 'ok', response: {} })
  })

  scenario(`no ack without broadcast.ack (vsn ${vsn})`, async (ctx) => {
    const client = ctx.client('noack', { vsn })
    const channel = client.channel(uniqueTopic('noack'))
    await subscribe(channel)
    assert.equal(await channel.send({ type: 'broadcast', event: 'e', payload: {} }), 'ok')
    await sleep(300)
    const replies = client.frames
      .parsed('<')
      .map((f) => (Array.isArray(f) ? { topic: f[2], event: f[3] } : f))
      .filter((f) => f.event === 'phx_reply' && f.topic !== 'phoenix')
    assert.equal(replies.length, 1, 'only the join may be replied to (docs/protocol.md#client-contract item 15)')
  })
}

scenario('binary (ArrayBuffer) payload, V2 -> V2 and not to V1', async (ctx) => {
  const topic = uniqueTopic('bin')
  const sender = ctx.client('sender').channel(topic)
  const v2Client = ctx.client('v2')
  const v2 = v2Client.channel(topic)
  const v1 = ctx.client('v1', { vsn: '1.0.0' }).channel(topic)
  const gotV2 = collect(v2, 'broadcast', { event: '*' })
  const gotV1 = collect(v1, 'broadcast', { event: '*' })
  await subscribe(v2)
  await subscribe(v1)
  await subscribe(sender)

  const bytes = new Uint8Array([0, 1, 2, 250, 255, 0x7b, 0x22])
  await sender.send({ type: 'broadcast', event: 'blob', payload: bytes.buffer.slice(0) })
  // A JSON message after the binary one: once V1 has it, the binary one would have arrived too.
  await sender.send({ type: 'broadcast', event: 'after', payload: { done: true } })

  await received(gotV2, 2, 'binary + JSON at the V2 receiver')
  const blob = gotV2.find((m) => m.event === 'blob')
  assert.ok(blob.payload instanceof ArrayBuffer, 'binary payload must reach realtime-js as an ArrayBuffer')
  assert.deepEqual([...new Uint8Array(blob.payload)], [...bytes])
  assert.ok(
    v2Client.frames.binaries('<').some((b) => b.text.startsWith('bin kind=4 enc=0')),
    'binary broadcast must arrive as kind 4, encoding 0'
  )

  await received(gotV1, 1, 'JSON message at the V1 receiver')
  await sleep(200)
  assert.deepEqual(
    gotV1.map((m) => m.event),
    ['after'],
    'binary-only broadcasts are never delivered to V1 sockets (docs/protocol.md#v1-frames, #client-contract item 10)'
  )
})

scenario('large JSON payload under the limit', async (ctx) => {
  const topic = uniqueTopic('large')
  const sender = ctx.client('sender').channel(topic, { config: { broadcast: { ack: true } } })
  const receiver = ctx.client('receiver').channel(topic)
  const got = collect(receiver, 'broadcast', { event: 'big' })
  await subscribe(receiver)
  await subscribe(sender)
  const big = 'x'.repeat(200_000)
  assert.equal(await sender.send({ type: 'broadcast', event: 'big', payload: { big } }), 'ok')
  await received(got, 1, '200 kB broadcast')
  assert.equal(got[0].payload.big.length, big.length)
})

scenario('many messages keep their order', async (ctx) => {
  const topic = uniqueTopic('order')
  const sender = ctx.client('sender').channel(topic)
  const receiver = ctx.client('receiver').channel(topic)
  const got = collect(receiver, 'broadcast', { event: 'seq' })
  await subscribe(receiver)
  await subscribe(sender)
  const n = 50
  for (let i = 0; i < n; i++) await sender.send({ type: 'broadcast', event: 'seq', payload: { i } })
  await received(got, n, 'sequenced broadcasts')
  assert.deepEqual(
    got.map((m) => m.payload.i),
    [...Array(n).keys()]
  )
})
