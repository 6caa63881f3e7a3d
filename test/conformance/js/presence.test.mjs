// Presence seen by a second realtime-js client: state, join, update, leave on untrack and on
// disconnect (docs/protocol.md#presence, #client-contract item 16).
import assert from 'node:assert/strict'
import { scenario, subscribe, waitFor, sleep, uniqueTopic } from './lib/scenario.mjs'

// watch adds presence listeners (which also makes realtime-js join with presence.enabled: true).
function watch(channel) {
  const ev = { sync: 0, joins: [], leaves: [] }
  channel.on('presence', { event: 'sync' }, () => ev.sync++)
  channel.on('presence', { event: 'join' }, (p) => ev.joins.push(p))
  channel.on('presence', { event: 'leave' }, (p) => ev.leaves.push(p))
  return ev
}

function v(frame) {
  return Array.isArray(frame)
    ? { join_ref: frame[0], ref: frame[1], topic: frame[2], event: frame[3], payload: frame[4] }
    : frame
}

for (const vsn of ['1.0.0', '2.0.0']) {
  scenario(`presence track/update/untrack seen by another client (vsn ${vsn})`, async (ctx) => {
    const topic = uniqueTopic('presence')
    const anaClient = ctx.client('ana', { vsn })
    const boClient = ctx.client('bo', { vsn })
    const ana = anaClient.channel(topic, { config: { presence: { key: 'ana' } } })
    const bo = boClient.channel(topic, { config: { presence: { key: 'bo' } } })
    watch(ana)
    const boEv = watch(bo)
    await subscribe(ana)
    await subscribe(bo)
    // presence_state follows the join reply (docs/protocol.md#post-join-pushes) and realtime-js raises a first sync.
    await waitFor(() => boEv.sync >= 1, 'first sync at bo (presence_state)')

    assert.equal(await ana.track({ user: 'ana', status: 'online' }), 'ok')
    await waitFor(() => boEv.joins.some((j) => j.key === 'ana'), 'join of ana at bo')
    const join = boEv.joins.find((j) => j.key === 'ana')
    assert.equal(join.newPresences.length, 1)
    assert.equal(join.newPresences[0].user, 'ana')
    assert.equal(typeof join.newPresences[0].presence_ref, 'string')
    assert.ok(join.newPresences[0].presence_ref.length > 0, 'phx_ref must be a non-empty string')
    assert.deepEqual(Object.keys(bo.presenceState()).sort(), ['ana'])

    // Update: a join with phx_ref_prev plus a leave of the old meta, in one diff (docs/protocol.md#presence-diffs).
    const oldRef = join.newPresences[0].presence_ref
    assert.equal(await ana.track({ user: 'ana', status: 'away' }), 'ok')
    await waitFor(() => bo.presenceState().ana?.[0]?.status === 'away', 'updated meta at bo')
    assert.equal(bo.presenceState().ana.length, 1, 'an update replaces the meta')
    const diffs = boClient.frames
      .parsed('<')
      .map(v)
      .filter((f) => f.event === 'presence_diff')
    const upd = diffs.find((d) => d.payload.joins?.ana?.metas?.[0]?.status === 'away')
    assert.ok(upd, 'no presence_diff with the updated meta')
    assert.equal(upd.payload.joins.ana.metas[0].phx_ref_prev, oldRef, 'update must carry phx_ref_prev')
    for (const d of diffs) {
      assert.ok('joins' in d.payload && 'leaves' in d.payload, 'presence_diff must always have joins and leaves')
      if (vsn === '2.0.0') assert.equal(d.join_ref, null, 'presence_diff is fan-out: join_ref null')
    }

    assert.equal(await ana.untrack(), 'ok')
    await waitFor(() => boEv.leaves.some((l) => l.key === 'ana'), 'leave of ana at bo')
    await waitFor(() => !bo.presenceState().ana, 'ana removed from bo state')
  })

  scenario(`presence_state on join and leave on disconnect (vsn ${vsn})`, async (ctx) => {
    const topic = uniqueTopic('presence-state')
    const anaClient = ctx.client('ana', { vsn })
    const ana = anaClient.channel(topic, { config: { presence: { key: 'ana' } } })
    watch(ana)
    await subscribe(ana)
    assert.equal(await ana.track({ user: 'ana' }), 'ok')

    const boClient = ctx.client('bo', { vsn })
    const bo = boClient.channel(topic)
    const boEv = watch(bo)
    await subscribe(bo)
    await waitFor(() => bo.presenceState().ana, 'ana in presence_state received by bo')
    const [meta] = bo.presenceState().ana
    assert.equal(meta.user, 'ana')

    // presence_state is a channel push: it carries the channel's join_ref (docs/protocol.md#post-join-pushes, #client-contract item 6).
    const state = boClient.frames
      .parsed('<')
      .map(v)
      .find((f) => f.event === 'presence_state')
    assert.ok(state, 'no presence_state frame')
    if (vsn === '2.0.0') {
      const join = boClient.frames
        .parsed('>')
        .map(v)
        .find((f) => f.event === 'phx_join')
      assert.equal(state.join_ref, join.join_ref)
    }
    assert.equal(typeof state.payload.ana.metas[0].phx_ref, 'string')

    await anaClient.disconnect()
    await waitFor(() => boEv.leaves.some((l) => l.key === 'ana'), 'leave of ana after disconnect', 8000)
    assert.equal(bo.presenceState().ana, undefined)
  })
}

scenario('presence across serializers and generated keys', async (ctx) => {
  const topic = uniqueTopic('presence-mixed')
  const a = ctx.client('v1', { vsn: '1.0.0' }).channel(topic) // no key: server generates a UUID
  const b = ctx.client('v2').channel(topic)
  watch(a)
  const bEv = watch(b)
  await subscribe(a)
  await subscribe(b)
  await sleep(100)
  assert.equal(await a.track({ who: 'v1 client' }), 'ok')
  await waitFor(() => bEv.joins.length > 0, 'join at the V2 client')
  const key = bEv.joins[0].key
  assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'generated key must be a UUID string')
  assert.equal(bEv.joins[0].newPresences[0].who, 'v1 client')
})

scenario('the tracking client sees its own presence; two sockets can share a key', async (ctx) => {
  const topic = uniqueTopic('presence-tabs')
  const tab1 = ctx.client('tab1').channel(topic, { config: { presence: { key: 'ana' } } })
  const tab2Client = ctx.client('tab2')
  const tab2 = tab2Client.channel(topic, { config: { presence: { key: 'ana' } } })
  const observer = ctx.client('observer').channel(topic)
  const ev1 = watch(tab1)
  watch(tab2)
  const obs = watch(observer)
  await subscribe(tab1)
  await subscribe(tab2)
  await subscribe(observer)
  assert.equal(await tab1.track({ tab: 1 }), 'ok')
  assert.equal(await tab2.track({ tab: 2 }), 'ok')
  // docs/protocol.md#presence-diffs: the tracking channel also receives the diff for its own track.
  await waitFor(() => ev1.joins.some((j) => j.newPresences.some((p) => p.tab === 1)), 'own join at tab1')
  await waitFor(() => observer.presenceState().ana?.length === 2, 'two metas under key ana')
  assert.deepEqual(observer.presenceState().ana.map((m) => m.tab).sort(), [1, 2])
  await tab2Client.disconnect()
  await waitFor(() => observer.presenceState().ana?.length === 1, 'one meta left after tab2 disconnects', 8000)
  assert.equal(observer.presenceState().ana[0].tab, 1)
  assert.ok(obs.leaves.some((l) => l.key === 'ana' && l.leftPresences.some((p) => p.tab === 2)))
})

scenario('track without presence enabled at join still reaches others', async (ctx) => {
  const topic = uniqueTopic('presence-auto')
  // No presence listener and enabled: false → join without presence; track auto-enables (docs/protocol.md#presence-enabling).
  const trackerClient = ctx.client('tracker')
  const tracker = trackerClient.channel(topic, { config: { presence: { key: 'auto' } } })
  const observer = ctx.client('observer').channel(topic)
  const obs = watch(observer)
  await subscribe(observer)
  await subscribe(tracker)
  assert.equal(await tracker.track({ auto: true }), 'ok')
  await waitFor(() => obs.joins.some((j) => j.key === 'auto'), 'join of the auto-enabled tracker')
  // Upstream never pushes presence_state when a track enables presence (docs/protocol.md#presence-enabling), so realtime-js
  // never shows the members (supabase/realtime#2196); this node pushes it (issue 12), once.
  const states = trackerClient.frames.parsed('<').map(v).filter((f) => f.event === 'presence_state')
  assert.equal(states.length, 1, 'one presence_state when track enables presence')
  assert.deepEqual(Object.keys(states[0].payload), ['auto'])
  await waitFor(() => 'auto' in tracker.presenceState(), 'the tracker sees itself in presenceState()')
})
