// Partition and heal (issue 6, docs/protocol.md#presence-replication): the link a <-> b goes through a fault-injecting proxy
// that silently drops everything; c stays linked to both. During the partition a and b report
// each other's presences as leaves after the down period while c keeps seeing everyone; after
// the heal every node converges to the same presence state, including presences tracked while
// the partition lasted.
import assert from 'node:assert/strict'
import {
  scenario,
  clientOn,
  subscribe,
  collect,
  received,
  waitFor,
  uniqueTopic,
  watchPresence,
  presenceKeys,
  presenceSnapshot,
  control,
  status,
  num,
} from './lib/cluster.mjs'

const DOWN = num('RT_DOWN_MS')
// A silent partition is only noticed when a link has received nothing for the mesh's dead-link
// timeout; then the down period runs.
const DEAD = num('RT_DEAD_LINK_MS')

function member(ctx, name, id, topic, vsn = '2.0.0') {
  const ch = clientOn(ctx, name, id, { vsn }).channel(topic, { config: { presence: { key: name } } })
  return { ch, ev: watchPresence(ch), got: collect(ch, 'broadcast', { event: 'msg' }) }
}

async function send(from, what) {
  assert.equal(await from.ch.send({ type: 'broadcast', event: 'msg', payload: { what } }), 'ok')
}

const has = (m, what) => m.got.some((g) => g.payload.what === what)
const same = (...ms) => ms.every((m) => JSON.stringify(presenceSnapshot(m.ch)) === JSON.stringify(presenceSnapshot(ms[0].ch)))

scenario('partition a|b with c linked to both, then heal: presence converges everywhere', async (ctx) => {
  const topic = uniqueTopic('partition')
  const a = member(ctx, 'a', 'a', topic)
  const b = member(ctx, 'b', 'b', topic, '1.0.0')
  const c = member(ctx, 'c', 'c', topic)
  for (const m of [a, b, c]) await subscribe(m.ch)
  for (const m of [a, b, c]) assert.equal(await m.ch.track({ node: m === a ? 'a' : m === b ? 'b' : 'c' }), 'ok')
  await waitFor(() => [a, b, c].every((m) => presenceKeys(m.ch).join() === 'a,b,c'), 'everyone sees a, b, c')
  await waitFor(() => same(a, b, c), 'identical presence before the partition')

  await control('partition')
  const t0 = Date.now()
  await waitFor(
    () => a.ev.leaves.some((l) => l.key === 'b') && b.ev.leaves.some((l) => l.key === 'a'),
    'a and b see each other leave',
    DEAD + DOWN + 6000
  )
  const leftOnA = a.ev.leaves.find((l) => l.key === 'b').at - t0
  const leftOnB = b.ev.leaves.find((l) => l.key === 'a').at - t0
  console.log(`partition: leave of b on a after ${leftOnA} ms, of a on b after ${leftOnB} ms (dead-link ${DEAD} + down ${DOWN} ms)`)
  for (const after of [leftOnA, leftOnB]) {
    // Noticing a silent partition takes up to the dead-link timeout (minus the ping interval),
    // then the down period runs: a leave earlier than the down period breaks the contract.
    assert.ok(after >= DOWN, `a leave came ${after} ms into the partition, before the down period`)
  }
  assert.deepEqual(presenceKeys(a.ch), ['a', 'c'])
  assert.deepEqual(presenceKeys(b.ch), ['b', 'c'])
  assert.deepEqual(presenceKeys(c.ch), ['a', 'b', 'c'], 'c is linked to both and must keep everyone')
  const sa = await status('a')
  assert.ok(!(sa.peers ?? []).some((p) => p.name === 'node-b'), `a must not list b as a peer during the partition: ${JSON.stringify(sa.peers)}`)

  // c still bridges broadcasts it originates; a and b still reach c.
  await send(c, 'c during partition')
  await received(a.got, 1, 'c -> a during the partition')
  await received(b.got, 1, 'c -> b during the partition')
  await send(a, 'a during partition')
  await waitFor(() => has(c, 'a during partition'), 'a -> c during the partition')

  // A presence tracked on b while cut off from a, and an update of a's meta.
  const b2 = member(ctx, 'b2', 'b', topic)
  await subscribe(b2.ch)
  assert.equal(await b2.ch.track({ node: 'b', late: true }), 'ok')
  assert.equal(await a.ch.track({ node: 'a', updated: true }), 'ok')
  await waitFor(() => presenceKeys(c.ch).join() === 'a,b,b2,c', 'c sees b2')

  await control('heal')
  const t1 = Date.now()
  await control('wait-mesh')
  await waitFor(() => [a, b, c, b2].every((m) => presenceKeys(m.ch).join() === 'a,b,b2,c'), 'everyone sees a, b, b2, c after the heal', 15000)
  await waitFor(() => same(a, b, c, b2), 'identical presence state (keys, metas, refs) on a, b and c', 10000)
  console.log(`heal: converged ${Date.now() - t1} ms after the proxy forwarded again`)
  assert.equal(presenceSnapshot(b.ch).a[0].updated, true, 'b must see the meta a updated during the partition')
  assert.equal(presenceSnapshot(b.ch).a.length, 1, 'the update replaced the old meta')

  // Broadcast flows directly between a and b again.
  const before = b.got.length
  await send(a, 'a after heal')
  await received(b.got, before + 1, 'a -> b after the heal')
})
