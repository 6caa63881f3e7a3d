// The Phoenix LongPoll transport (/socket/longpoll) driven by real Phoenix-protocol clients: the
// LongPoll class of @supabase/phoenix (pinned; the Phoenix JS client realtime-js is built on),
// under a plain Phoenix Socket and under the unmodified realtime-js (its `transport` option).
// Protocol: phoenix/lib/phoenix/transports/long_poll.ex.
import assert from 'node:assert/strict'
import { env } from './lib/env.mjs'
import { scenario, subscribe, collect, received, waitFor, uniqueTopic } from './lib/scenario.mjs'
import { phoenixSocket, join, push, LongPoll } from './lib/phoenix.mjs'

const joinConfig = (extra = {}) => ({
  config: { broadcast: { ack: true, self: false }, presence: { key: '', enabled: false }, postgres_changes: [], private: false, ...extra },
})

// The Phoenix JS client encodes V2 arrays only (vsn 2.0.0); V1 over long poll is covered by
// node/server/longpoll_test.go with raw requests.
{
  scenario('Phoenix LongPoll client: join, broadcast both ways with a WebSocket client', async (ctx) => {
    const topic = uniqueTopic('lp')
    const lp = phoenixSocket(ctx, 'lp', { longpoll: true })
    const lpChannel = lp.channel(`realtime:${topic}`, joinConfig())
    const lpGot = []
    lpChannel.on('broadcast', (p) => lpGot.push(p))
    const reply = await join(lpChannel)
    assert.deepEqual(reply, { postgres_changes: [] })
    assert.equal(lp.transport, LongPoll)

    const ws = ctx.client('ws').channel(topic)
    const wsGot = collect(ws, 'broadcast', { event: '*' })
    await subscribe(ws)
    assert.equal(await ws.send({ type: 'broadcast', event: 'to-lp', payload: { n: 1 } }), 'ok')
    await waitFor(() => lpGot.length > 0, 'the broadcast over long poll')
    assert.deepEqual(lpGot[0], { type: 'broadcast', event: 'to-lp', payload: { n: 1 } })

    const ack = await push(lpChannel, 'broadcast', { type: 'broadcast', event: 'from-lp', payload: { n: 2 } })
    assert.deepEqual(ack, { status: 'ok', response: {} })
    await received(wsGot, 1, 'the long-poll client broadcast')
    assert.deepEqual(wsGot[0], { type: 'broadcast', event: 'from-lp', payload: { n: 2 } })
  })
}

scenario('Phoenix LongPoll client: presence state and diffs', async (ctx) => {
  const topic = uniqueTopic('lp-presence')
  const ws = ctx.client('ws').channel(topic, { config: { presence: { key: 'ws' } } })
  ws.on('presence', { event: 'sync' }, () => {})
  await subscribe(ws)
  assert.equal(await ws.track({ who: 'ws' }), 'ok')
  const lp = phoenixSocket(ctx, 'lp', { longpoll: true })
  const ch = lp.channel(`realtime:${topic}`, joinConfig({ presence: { key: 'lp', enabled: true } }))
  const states = []
  ch.on('presence_state', (s) => states.push(s))
  await join(ch)
  await waitFor(() => states.length > 0, 'presence_state over long poll')
  assert.deepEqual(Object.keys(states[0]), ['ws'])
  const t = await push(ch, 'presence', { type: 'presence', event: 'track', payload: { who: 'lp' } })
  assert.equal(t.status, 'ok')
  await waitFor(() => 'lp' in ws.presenceState(), 'the WebSocket client sees the long-poll member')
})

scenario('unmodified realtime-js over the LongPoll transport', async (ctx) => {
  const topic = uniqueTopic('rjs-lp')
  const lpClient = ctx.client('rjs-longpoll', { transport: LongPoll })
  const lpChannel = lpClient.channel(topic, { config: { broadcast: { ack: true } } })
  const lpGot = collect(lpChannel, 'broadcast', { event: '*' })
  await subscribe(lpChannel, 10000)
  const ws = ctx.client('ws').channel(topic, { config: { broadcast: { ack: true } } })
  const wsGot = collect(ws, 'broadcast', { event: '*' })
  await subscribe(ws)
  assert.equal(await ws.send({ type: 'broadcast', event: 'to-lp', payload: { x: 'y' } }), 'ok')
  await received(lpGot, 1, 'broadcast to the long-poll realtime-js client')
  assert.deepEqual(lpGot[0], { type: 'broadcast', event: 'to-lp', payload: { x: 'y' } })
  assert.equal(await lpChannel.send({ type: 'broadcast', event: 'from-lp', payload: { z: 1 } }), 'ok')
  await received(wsGot, 1, 'broadcast from the long-poll realtime-js client')
  assert.deepEqual(wsGot[0], { type: 'broadcast', event: 'from-lp', payload: { z: 1 } })
}, { timeout: 40000 })

scenario('LongPoll with a bad token: refused (status 403), the client sees an error', async (ctx) => {
  const errors = []
  const lp = phoenixSocket(ctx, 'lp-bad', { longpoll: true, token: env.tokens.badSignature })
  lp.onError((e) => errors.push(e))
  await waitFor(() => errors.includes(403), 'a 403 error from the long-poll transport')
  assert.ok(!lp.isConnected())
})
