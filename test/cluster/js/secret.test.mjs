// A node started with the wrong CLUSTER_SECRET (nx) is discovered through the same Postgres but
// must not join: nothing published on it reaches clients of the good nodes, and nothing of theirs
// reaches its clients (issue 6: "a node without the cluster secret cannot join or inject").
import assert from 'node:assert/strict'
import {
  scenario,
  clientOn,
  subscribe,
  collect,
  received,
  waitFor,
  sleep,
  uniqueTopic,
  watchPresence,
  presenceKeys,
  node,
  token,
  num,
} from './lib/cluster.mjs'

const PERIOD = num('RT_PRESENCE_PERIOD_MS')

function member(ctx, name, id, topic, vsn = '2.0.0') {
  const ch = clientOn(ctx, name, id, { vsn }).channel(topic, { config: { presence: { key: name } } })
  return { ch, ev: watchPresence(ch), got: collect(ch, 'broadcast', { event: 'msg' }) }
}

const whats = (m) => m.got.map((g) => g.payload.what)

scenario('the wrong-secret node neither injects nor receives broadcasts and presence', async (ctx) => {
  const topic = uniqueTopic('secret')
  const good1 = member(ctx, 'good1', 'n1', topic)
  const good3 = member(ctx, 'good3', 'n3', topic, '1.0.0')
  const intruder = member(ctx, 'intruder', 'nx', topic)
  const peer = member(ctx, 'peer', 'nx', topic, '1.0.0') // a second client on the bad node
  for (const m of [good1, good3, intruder, peer]) await subscribe(m.ch)
  assert.equal(await intruder.ch.track({ who: 'intruder' }), 'ok')
  assert.equal(await good1.ch.track({ who: 'good' }), 'ok')

  for (let i = 0; i < 3; i++) {
    assert.equal(await intruder.ch.send({ type: 'broadcast', event: 'msg', payload: { what: `evil-${i}` } }), 'ok')
  }
  const rest = await fetch(`${node('nx').http}/api/broadcast`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', apikey: token() },
    body: JSON.stringify({ messages: [{ topic, event: 'msg', payload: { what: 'evil-rest' } }] }),
  })
  assert.equal(rest.status, 202)
  assert.equal(await good1.ch.send({ type: 'broadcast', event: 'msg', payload: { what: 'legit' } }), 'ok')

  // Positive controls: the good nodes talk to each other, the bad node serves its own clients.
  await received(good3.got, 1, 'legit broadcast n1 -> n3')
  await received(peer.got, 4, 'the bad node delivers locally')
  await waitFor(() => good3.ch.presenceState().good1, 'presence of n1 at n3')
  await waitFor(() => peer.ch.presenceState().intruder, 'local presence on the bad node')
  // Leave time for anything that leaked to arrive: several presence periods and link round trips.
  await sleep(Math.max(1500, 6 * PERIOD))

  assert.deepEqual(whats(good3), ['legit'], 'n3 got only the legit broadcast')
  assert.deepEqual(whats(good1), [], 'n1 got nothing from the bad node')
  assert.deepEqual(whats(intruder), ['evil-rest'], 'the bad node got nothing from the good ones')
  assert.deepEqual(whats(peer).sort(), ['evil-0', 'evil-1', 'evil-2', 'evil-rest'])
  assert.deepEqual(presenceKeys(good3.ch), ['good1'], 'intruder presence must not reach n3')
  assert.deepEqual(presenceKeys(good1.ch), ['good1'], 'intruder presence must not reach n1')
  assert.deepEqual(presenceKeys(intruder.ch), ['intruder'], 'good presence must not reach the bad node')
  assert.deepEqual(presenceKeys(peer.ch), ['intruder'])
})
