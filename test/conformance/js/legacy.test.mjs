// Legacy (config-less) joins from a plain Phoenix client (docs/protocol.md#join-payload): the sub-topic is a Postgres
// Changes subscription schema[:table[:filter]], and changes arrive with the change type as the
// event and the bare record as the payload, as upstream delivers them to pre-2.0 clients
// (realtime_channel.ex pg_change_params(false, ...); postgres_cdc_rls/message_dispatcher.ex).
// realtime-js always sends `config`, so @supabase/phoenix's Socket is the client here.
// Table public.parity_legacy comes from parity_test.go.
import assert from 'node:assert/strict'
import { scenario, waitFor, collect } from './lib/scenario.mjs'
import { phoenixSocket, join } from './lib/phoenix.mjs'
import { sql } from './lib/db.mjs'

const WAIT = 10000

for (const topic of ['realtime:public:parity_legacy', 'realtime:public', 'realtime:*', 'realtime:public:parity_legacy:title=eq.pick-me']) {
  scenario(`legacy join ${topic}: changes arrive as INSERT events with the record`, async (ctx) => {
    const socket = phoenixSocket(ctx, 'legacy')
    const channel = socket.channel(topic, {})
    const inserts = []
    const system = []
    channel.on('INSERT', (p) => inserts.push(p))
    channel.on('system', (p) => system.push(p))
    const reply = await join(channel)
    assert.equal(reply.postgres_changes.length, 1, JSON.stringify(reply))
    await waitFor(() => system.some((m) => m.message === 'Subscribed to PostgreSQL'), 'Subscribed to PostgreSQL', WAIT)
    const title = topic.endsWith('pick-me') ? 'pick-me' : `legacy-${Date.now()}`
    if (topic.endsWith('pick-me')) await sql(`insert into public.parity_legacy (title) values ('skip-me')`)
    await sql(`insert into public.parity_legacy (title) values ('${title}')`)
    await waitFor(() => inserts.length > 0, 'an INSERT event', WAIT)
    const got = inserts.find((p) => p.record?.title === title)
    assert.ok(got, `INSERT of ${title}: ${JSON.stringify(inserts)}`)
    assert.equal(got.type, 'INSERT')
    assert.equal(got.schema, 'public')
    assert.equal(got.table, 'parity_legacy')
    if (topic.endsWith('pick-me')) assert.ok(!inserts.some((p) => p.record?.title === 'skip-me'), 'the filter applies')
    const frame = socket.frames.parsed('<').find((f) => f[3] === 'INSERT')
    assert.deepEqual([frame[0], frame[1], frame[2]], [null, null, topic])
  })
}

scenario('legacy join still carries broadcasts', async (ctx) => {
  const a = phoenixSocket(ctx, 'a').channel('realtime:public:parity_legacy', {})
  const b = phoenixSocket(ctx, 'b').channel('realtime:public:parity_legacy', {})
  const got = []
  b.on('broadcast', (p) => got.push(p))
  await join(a)
  await join(b)
  a.push('broadcast', { type: 'broadcast', event: 'hi', payload: { n: 1 } })
  await waitFor(() => got.length > 0, 'the broadcast', WAIT)
  assert.deepEqual(got[0], { type: 'broadcast', event: 'hi', payload: { n: 1 } })
})

scenario('legacy join: UPDATE and DELETE events carry the record and the old record', async (ctx) => {
  const topic = 'realtime:public:parity_legacy'
  const channel = phoenixSocket(ctx, 'legacy-ud').channel(topic, {})
  const events = []
  const system = []
  for (const ev of ['INSERT', 'UPDATE', 'DELETE']) channel.on(ev, (p) => events.push(p))
  channel.on('system', (p) => system.push(p))
  await join(channel)
  await waitFor(() => system.some((m) => m.message === 'Subscribed to PostgreSQL'), 'Subscribed to PostgreSQL', WAIT)
  const title = `ud-${Date.now()}`
  const id = Number(await sql(`insert into public.parity_legacy (title) values ('${title}') returning id`))
  await sql(`update public.parity_legacy set title = '${title}-2' where id = ${id}`)
  await sql(`delete from public.parity_legacy where id = ${id}`)
  await waitFor(() => events.some((p) => p.type === 'DELETE' && p.old_record?.id === id), 'the DELETE event', WAIT)
  const update = events.find((p) => p.type === 'UPDATE' && p.record?.id === id)
  assert.ok(update, `UPDATE of ${id}: ${JSON.stringify(events)}`)
  assert.equal(update.record.title, `${title}-2`)
  const frames = socketFrames(channel).filter((f) => f[2] === topic).map((f) => f[3])
  assert.ok(frames.includes('UPDATE') && frames.includes('DELETE'), `event names ${frames}`)
})

function socketFrames(channel) {
  return channel.socket.frames.parsed('<')
}
