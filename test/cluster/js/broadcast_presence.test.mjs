// Three nodes found through Postgres LISTEN/NOTIFY: n1 and n2 in region eu, n3 in region us.
// Broadcast and presence of realtime-js clients must cross nodes and regions (docs/protocol.md#routing, #presence-replication).
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
  presenceSnapshot,
  node,
  token,
} from './lib/cluster.mjs'

const VSNS = ['2.0.0', '1.0.0']

// receiversOn joins topic from a V2 and a V1 client on each node of ids.
async function receiversOn(ctx, ids, topic, event) {
  const rx = []
  for (const id of ids) {
    for (const vsn of VSNS) {
      const ch = clientOn(ctx, 'rx', id, { vsn }).channel(topic)
      rx.push({ id, vsn, ch, got: collect(ch, 'broadcast', { event }) })
    }
  }
  for (const r of rx) await subscribe(r.ch)
  return rx
}

for (const [from, to] of [
  ['n1', ['n2', 'n3']], // eu -> eu and across to us
  ['n3', ['n1', 'n2']], // us -> eu through the eu relay
]) {
  scenario(`broadcast from ${from} reaches V2 and V1 clients on ${to} exactly once`, async (ctx) => {
    const topic = uniqueTopic('room')
    const sender = clientOn(ctx, 'sender', from).channel(topic)
    const own = collect(sender, 'broadcast', { event: 'hello' })
    const rx = await receiversOn(ctx, [from, ...to], topic, 'hello')
    await subscribe(sender)

    for (let i = 1; i <= 3; i++) {
      const payload = { from, i, text: 'héllo across nodes' }
      assert.equal(await sender.send({ type: 'broadcast', event: 'hello', payload }), 'ok')
    }
    for (const r of rx) {
      await received(r.got, 3, `3 x hello at ${r.id} v${r.vsn[0]}`)
      assert.deepEqual(
        r.got.map((m) => m.payload.i),
        [1, 2, 3],
        `order at ${r.id} v${r.vsn[0]} (one ordered link per pair of nodes)`
      )
      assert.deepEqual(r.got[0], { type: 'broadcast', event: 'hello', payload: { from, i: 1, text: 'héllo across nodes' } })
    }
    // Every node must deliver each message once: a routing loop or a double forward (relay plus
    // direct) would show up as duplicates here.
    await sleep(500)
    for (const r of rx) assert.equal(r.got.length, 3, `duplicates at ${r.id} v${r.vsn[0]}`)
    assert.equal(own.length, 0, 'self: false sender must not get its own broadcasts back')
  })
}

scenario('REST broadcast on n2 reaches realtime-js clients on n1 and n3', async (ctx) => {
  const topic = uniqueTopic('rest')
  const rx = await receiversOn(ctx, ['n1', 'n3'], topic, 'from-rest')
  const res = await fetch(`${node('n2').http}/api/broadcast`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', apikey: token(), Authorization: `Bearer ${token()}` },
    body: JSON.stringify({ messages: [{ topic, event: 'from-rest', payload: { via: 'n2' } }] }),
  })
  assert.equal(res.status, 202, `POST /api/broadcast on n2: ${await res.text()}`)
  for (const r of rx) {
    await received(r.got, 1, `REST broadcast at ${r.id} v${r.vsn[0]}`)
    assert.deepEqual(r.got[0].payload, { via: 'n2' })
  }
})

scenario('presence tracked on n1 appears on n3 (join, sync, presence_state) and leaves on untrack', async (ctx) => {
  const topic = uniqueTopic('presence')
  const ana = clientOn(ctx, 'ana', 'n1').channel(topic, { config: { presence: { key: 'ana' } } })
  watchPresence(ana)
  const early = clientOn(ctx, 'early', 'n3', { vsn: '1.0.0' }).channel(topic, { config: { presence: { key: 'early' } } })
  const earlyEv = watchPresence(early)
  await subscribe(ana)
  await subscribe(early)
  await waitFor(() => earlyEv.sync >= 1, 'first sync at n3 (presence_state on join)')

  assert.equal(await ana.track({ user: 'ana', region: 'eu' }), 'ok')
  // Remote tracks travel with the next presence delta (docs/protocol.md#presence-replication: about one broadcast period).
  await waitFor(() => earlyEv.joins.some((j) => j.key === 'ana'), 'join of ana at n3', 5000)
  const join = earlyEv.joins.find((j) => j.key === 'ana')
  assert.equal(join.newPresences.length, 1)
  assert.equal(join.newPresences[0].user, 'ana')
  assert.ok(join.newPresences[0].presence_ref, 'replicated meta must keep its presence_ref')
  assert.deepEqual(presenceKeys(early), ['ana'])

  // A client joining n3 later gets ana in presence_state (a sync without any diff).
  const late = clientOn(ctx, 'late', 'n3').channel(topic)
  const lateEv = watchPresence(late)
  await subscribe(late)
  await waitFor(() => late.presenceState().ana, 'ana in presence_state at a late joiner on n3')
  assert.ok(lateEv.sync >= 1)
  assert.deepEqual(presenceSnapshot(late), presenceSnapshot(early), 'both n3 clients see the same state')
  assert.deepEqual(presenceSnapshot(late), presenceSnapshot(ana), 'n3 sees what n1 has')

  // And the other way round: presence tracked on n3 reaches n1.
  assert.equal(await early.track({ user: 'early', region: 'us' }), 'ok')
  await waitFor(() => ana.presenceState().early, 'presence of n3 client at n1', 5000)

  assert.equal(await ana.untrack(), 'ok')
  await waitFor(() => earlyEv.leaves.some((l) => l.key === 'ana'), 'leave of ana at n3', 5000)
  await waitFor(() => !late.presenceState().ana, 'ana gone from the late joiner on n3')
})
