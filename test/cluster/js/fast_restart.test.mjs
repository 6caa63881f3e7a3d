// A node killed and restarted under the same name well within the down period: the new process
// is a new presence replica (docs/protocol.md#presence-replication), so the survivors must drop the old process's presences
// as soon as they link to the new one, not wait out the down period, and never resurrect them.
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
  control,
  num,
} from './lib/cluster.mjs'

const DOWN = num('RT_DOWN_MS')

function member(ctx, name, id, topic, vsn = '2.0.0') {
  const ch = clientOn(ctx, name, id, { vsn }).channel(topic, { config: { presence: { key: name } } })
  return { ch, ev: watchPresence(ch), got: collect(ch, 'broadcast', { event: 'msg' }) }
}

scenario('n2 killed and restarted within the down period: the old process presences leave at once', async (ctx) => {
  const topic = uniqueTopic('fast-restart')
  const one = member(ctx, 'one', 'n1', topic)
  const two = member(ctx, 'two', 'n2', topic)
  const three = member(ctx, 'three', 'n3', topic, '1.0.0')
  for (const m of [one, two, three]) await subscribe(m.ch)
  assert.equal(await two.ch.track({ pid: 'old' }), 'ok')
  assert.equal(await one.ch.track({ user: 'one' }), 'ok')
  await waitFor(() => one.ch.presenceState().two && three.ch.presenceState().two, 'presence of two on n1 and n3')
  await waitFor(() => three.ch.presenceState().one, 'presence of one on n3')
  // Keep the killed client's realtime-js from rejoining the new process and re-creating "two".
  two.ch.unsubscribe().catch(() => {})

  await control('kill', { node: 'n2' })
  const t0 = Date.now()
  await control('restart', { node: 'n2' })
  const back = Date.now() - t0
  await waitFor(
    () => !one.ch.presenceState().two && !three.ch.presenceState().two,
    'the dead process presence gone from n1 and n3',
    DOWN + 2000
  )
  const gone = Date.now() - t0
  console.log(`fast restart: mesh complete ${back} ms after SIGKILL, old presence gone after ${gone} ms (down period ${DOWN} ms)`)
  assert.ok(gone < DOWN, `old presence left after ${gone} ms: the survivors waited out the down period instead of replacing the replica`)

  const fresh = member(ctx, 'fresh', 'n2', topic)
  await subscribe(fresh.ch)
  assert.equal(await one.ch.send({ type: 'broadcast', event: 'msg', payload: { what: 'hi' } }), 'ok')
  await received(fresh.got, 1, 'n1 -> restarted n2')
  await waitFor(() => fresh.ch.presenceState().one, 'presence of n1 on the restarted n2')
  assert.equal(fresh.ch.presenceState().two, undefined, 'the restarted n2 must not resurrect the old presence')
  assert.equal(one.ch.presenceState().two, undefined)
})
