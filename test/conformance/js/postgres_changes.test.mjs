// Postgres Changes through the unmodified realtime-js (docs/protocol.md#join-reply, #system-messages, #change-bindings to #change-payloads): events, filters,
// binding ids, payload shape and typed values, replica identity, RLS, readiness and subscribe
// errors. Tables are created by changes_test.go (dbFixtures); rows are written with psql.
import assert from 'node:assert/strict'
import { scenario, subscribe, collect, waitFor, sleep, uniqueTopic } from './lib/scenario.mjs'
import { postgresChangesFilter as pcf } from '@supabase/realtime-js'
import { signHS256 } from './lib/env.mjs'
import { sql, sqlIds, lit, framesOf, joinReply } from './lib/db.mjs'

const WAIT = 10000
const SUBSCRIBED_PG = 'Subscribed to PostgreSQL'

// pgChannel declares one postgres_changes listener per binding plus a system listener.
function pgChannel(client, topic, bindings, opts) {
  const ch = client.channel(topic, opts)
  const got = bindings.map((b) => collect(ch, 'postgres_changes', b))
  const system = collect(ch, 'system', {})
  return { ch, topic, got, system }
}

function pgSystem(pc) {
  return pc.system.find((s) => s.extension === 'postgres_changes')
}

// subscribeReady waits for SUBSCRIBED and then for the postgres_changes system message, which
// must be "Subscribed to PostgreSQL".
async function subscribeReady(pc) {
  await subscribe(pc.ch)
  const s = await waitFor(() => pgSystem(pc), `postgres_changes system message on ${pc.topic}`, WAIT)
  assert.deepEqual(s, { extension: 'postgres_changes', status: 'ok', message: SUBSCRIBED_PG, channel: pc.topic })
}

// rowId is the id of the row a realtime-js payload is about (old for DELETE).
const rowId = (p) => p.new?.id ?? p.old?.id
const dataId = (d) => d.record?.id ?? d.old_record?.id
const about = (ids) => (p) => ids.includes(rowId(p))
const byNum = (a, b) => a - b

// changeFrames are the postgres_changes frames received for a channel about the given rows.
function changeFrames(client, subTopic, ids) {
  return framesOf(client, 'postgres_changes').filter(
    (f) => f.topic === `realtime:${subTopic}` && ids.includes(dataId(f.payload.data))
  )
}

function bindingIds(client, subTopic) {
  const reply = joinReply(client, subTopic)
  assert.ok(reply, `no join reply for ${subTopic}`)
  return reply.payload.response.postgres_changes.map((b) => b.id)
}

for (const vsn of ['1.0.0', '2.0.0']) {
  scenario(`INSERT, UPDATE, DELETE and * bindings on one channel (vsn ${vsn})`, async (ctx) => {
    const client = ctx.client('sub', { vsn })
    const events = ['INSERT', 'UPDATE', 'DELETE', '*']
    const bindings = events.map((event) => ({ event, schema: 'public', table: 'todos' }))
    const pc = pgChannel(client, uniqueTopic('pg-crud'), bindings)
    await subscribeReady(pc)

    const [id] = await sqlIds(`insert into public.todos (grp, title, done) values ('crud', 'first', false) returning id`)
    await sql(`update public.todos set title = 'second', done = true where id = ${id}`)
    await sql(`delete from public.todos where id = ${id}`)
    await waitFor(() => pc.got[3].filter(about([id])).length >= 3, '3 changes at the * binding', WAIT)
    await sleep(300)

    const mine = pc.got.map((g) => g.filter(about([id])))
    assert.deepEqual(
      mine.map((g) => g.map((p) => p.eventType)),
      [['INSERT'], ['UPDATE'], ['DELETE'], ['INSERT', 'UPDATE', 'DELETE']]
    )
    const [ins, upd, del] = mine[3]
    assert.equal(ins.new.title, 'first')
    assert.equal(ins.new.done, false)
    assert.deepEqual(ins.old, {})
    assert.equal(upd.new.title, 'second')
    assert.equal(upd.new.done, true)
    assert.deepEqual(upd.old, { id }, 'default replica identity: old holds the primary key only')
    assert.deepEqual(del.new, {})
    assert.deepEqual(del.old, { id })

    // The join reply echoes the bindings in order with numeric ids (docs/protocol.md#join-reply); each change is one
    // message per channel listing every matching binding id (docs/protocol.md#change-payloads).
    const reply = joinReply(client, pc.topic)
    const echoed = reply.payload.response.postgres_changes
    assert.deepEqual(
      echoed.map(({ id: _, ...b }) => b),
      bindings
    )
    const ids = echoed.map((b) => b.id)
    assert.ok(ids.every((n) => Number.isInteger(n)), `binding ids must be JSON integers: ${JSON.stringify(ids)}`)
    assert.equal(new Set(ids).size, ids.length, 'distinct bindings need distinct ids')
    const frames = changeFrames(client, pc.topic, [id])
    assert.deepEqual(
      frames.map((f) => [f.payload.data.type, [...f.payload.ids].sort(byNum)]),
      [
        ['INSERT', [ids[0], ids[3]].sort(byNum)],
        ['UPDATE', [ids[1], ids[3]].sort(byNum)],
        ['DELETE', [ids[2], ids[3]].sort(byNum)],
      ]
    )
    for (const f of frames) {
      assert.equal(f.ref, null)
      if (vsn === '2.0.0') assert.equal(f.join_ref, null)
    }
  })
}

const TODO_COLUMNS = [
  { name: 'id', type: 'int4' },
  { name: 'grp', type: 'text' },
  { name: 'title', type: 'text' },
  { name: 'done', type: 'bool' },
  { name: 'n', type: 'int8' },
  { name: 'score', type: 'numeric' },
  { name: 'tags', type: '_text' },
  { name: 'meta', type: 'jsonb' },
  { name: 'due', type: 'timestamp' },
  { name: 'created_at', type: 'timestamptz' },
]
const COMMIT_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

scenario('payload shape and typed values (REPLICA IDENTITY FULL table)', async (ctx) => {
  const client = ctx.client('sub')
  const grp = uniqueTopic('types')
  const pc = pgChannel(client, uniqueTopic('pg-types'), [
    { event: '*', schema: 'public', table: 'todos_full', filter: `grp=eq.${grp}` },
  ])
  await subscribeReady(pc)
  const before = Date.now()
  const [id] = await sqlIds(`insert into public.todos_full (grp, title, done, n, score, tags, meta, due, created_at)
    values (${lit(grp)}, 'héllo "q", it''s', true, 9007199254740991, 12.30, '{a,"b,c",NULL}',
      '{"k": {"nested": [1, 2.5, null]}, "s": "x", "t": true}', '2024-05-01 12:34:56.789',
      '2024-05-01 12:34:56.5+02') returning id`)
  await sql(`update public.todos_full set tags = '{}', meta = null, done = false, score = -0.5 where id = ${id}`)
  await sql(`delete from public.todos_full where id = ${id}`)
  await waitFor(() => pc.got[0].length >= 3, 'INSERT, UPDATE, DELETE', WAIT)

  const first = {
    id, grp, title: `héllo "q", it's`, done: true, n: 9007199254740991, score: 12.3, tags: ['a', 'b,c', null],
    meta: { k: { nested: [1, 2.5, null] }, s: 'x', t: true }, due: '2024-05-01T12:34:56.789',
    created_at: '2024-05-01T10:34:56.5+00:00',
  }
  const second = { ...first, tags: [], meta: null, done: false, score: -0.5 }
  const [ins, upd, del] = pc.got[0]
  for (const p of [ins, upd, del]) {
    assert.deepEqual(Object.keys(p).sort(), ['commit_timestamp', 'errors', 'eventType', 'new', 'old', 'schema', 'table'])
    assert.equal(p.schema, 'public')
    assert.equal(p.table, 'todos_full')
    assert.equal(p.errors, null)
    assert.match(p.commit_timestamp, COMMIT_TS)
    const ts = Date.parse(p.commit_timestamp)
    assert.ok(Math.abs(ts - before) < 60_000, `commit_timestamp ${p.commit_timestamp} is not about now`)
  }
  assert.deepEqual([ins.eventType, upd.eventType, del.eventType], ['INSERT', 'UPDATE', 'DELETE'])
  assert.deepEqual(ins.new, first)
  assert.deepEqual(ins.old, {})
  assert.deepEqual(upd.new, second)
  assert.deepEqual(upd.old, first, 'REPLICA IDENTITY FULL: old holds the whole previous row')
  assert.deepEqual(del.new, {})
  assert.deepEqual(del.old, second)

  // The wire shape realtime-js converted from (docs/protocol.md#change-payloads): key sets per type and columns[].type.
  const frames = changeFrames(client, pc.topic, [id])
  assert.deepEqual(
    frames.map((f) => Object.keys(f.payload.data).sort()),
    [
      ['columns', 'commit_timestamp', 'errors', 'record', 'schema', 'table', 'type'],
      ['columns', 'commit_timestamp', 'errors', 'old_record', 'record', 'schema', 'table', 'type'],
      ['columns', 'commit_timestamp', 'errors', 'old_record', 'schema', 'table', 'type'],
    ]
  )
  for (const f of frames) assert.deepEqual(f.payload.data.columns, TODO_COLUMNS)
})

scenario('REPLICA IDENTITY default vs FULL: old record and filtered DELETE', async (ctx) => {
  const client = ctx.client('sub')
  const grp = uniqueTopic('ident')
  const pc = pgChannel(client, uniqueTopic('pg-ident'), [
    { event: '*', schema: 'public', table: 'todos' },
    { event: '*', schema: 'public', table: 'todos_full' },
    { event: 'DELETE', schema: 'public', table: 'todos', filter: `grp=eq.${grp}` },
    { event: 'DELETE', schema: 'public', table: 'todos_full', filter: `grp=eq.${grp}` },
  ])
  await subscribeReady(pc)
  const ins = (table) => sqlIds(`insert into public.${table} (grp, title, n) values (${lit(grp)}, 'before', 7) returning id`)
  const [d] = await ins('todos')
  const [f] = await ins('todos_full')
  await sql(`update public.todos set title = 'after' where id = ${d}; update public.todos_full set title = 'after' where id = ${f}`)
  await sql(`delete from public.todos where id = ${d}; delete from public.todos_full where id = ${f}`)
  await waitFor(() => pc.got[3].length >= 1 && pc.got[1].filter(about([f])).length >= 3, 'changes of both tables', WAIT)
  await waitFor(() => pc.got[0].filter(about([d])).length >= 3, 'changes of todos', WAIT)
  await sleep(300)

  const [, dUpd, dDel] = pc.got[0].filter(about([d]))
  assert.deepEqual(dUpd.old, { id: d })
  assert.equal(dUpd.new.title, 'after')
  assert.deepEqual(dDel.old, { id: d })
  const [, fUpd, fDel] = pc.got[1].filter(about([f]))
  const row = { id: f, grp, n: 7, done: null, score: null, tags: null, meta: null, due: null }
  const pick = (o) => Object.fromEntries(Object.keys(row).map((k) => [k, o[k]]))
  assert.deepEqual(pick(fUpd.old), row)
  assert.equal(fUpd.old.title, 'before')
  assert.equal(fDel.old.title, 'after')
  assert.match(fDel.old.created_at, /^\d{4}-\d\d-\d\dT/)
  // A filter on a non-key column is evaluated against the old image on DELETE: absent with the
  // default identity (no match), present with FULL (docs/protocol.md#filters).
  assert.deepEqual(pc.got[2], [], 'filtered DELETE on a default-identity table must not match')
  assert.deepEqual(pc.got[3].map(rowId), [f])
})

scenario('filters eq, neq, lt, gt, in, bool eq: matching rows arrive, others do not', async (ctx) => {
  const client = ctx.client('sub')
  const g = uniqueTopic('flt')
  const cases = [
    { filter: `title=eq.${g}-b`, match: ['b'] },
    { filter: `grp=eq.${g},title=neq.${g}-b`, match: ['a', 'c', 'd'] },
    { filter: `grp=eq.${g},n=lt.3`, match: ['a', 'b'] },
    { filter: `grp=eq.${g},n=gt.2`, match: ['c', 'd'] },
    { filter: `title=in.(${g}-a,${g}-d)`, match: ['a', 'd'] },
    { filter: `grp=eq.${g},done=eq.true`, match: ['b'] },
    { filter: `grp=eq.${g}`, match: ['a', 'b', 'c', 'd'] }, // sentinel: sees everything
  ]
  const chans = cases.map((c) =>
    pgChannel(client, uniqueTopic('pg-flt'), [{ event: '*', schema: 'public', table: 'todos_full', filter: c.filter }])
  )
  await Promise.all(chans.map(subscribeReady))
  // Full replica identity so that DELETEs carry the filtered columns (docs/protocol.md#filters).
  await sql(`insert into public.todos_full (grp, title, n, done) values
    (${lit(g)}, ${lit(g + '-a')}, 1, false), (${lit(g)}, ${lit(g + '-b')}, 2, true),
    (${lit(g)}, ${lit(g + '-c')}, 3, false), (${lit(g)}, ${lit(g + '-d')}, 4, null)`)
  await sql(`update public.todos_full set meta = '{"u": 1}' where grp = ${lit(g)}`)
  await sql(`delete from public.todos_full where grp = ${lit(g)}`)
  const sentinel = chans[chans.length - 1].got[0]
  await waitFor(() => sentinel.length >= 12, '12 changes at the unfiltered-by-value sentinel', WAIT)
  await sleep(300)

  const label = (p) => `${p.eventType}:${(p.eventType === 'DELETE' ? p.old : p.new).title.slice(g.length + 1)}`
  cases.forEach((c, i) => {
    const want = ['INSERT', 'UPDATE', 'DELETE'].flatMap((op) => c.match.map((m) => `${op}:${m}`)).sort()
    assert.deepEqual(chans[i].got[0].map(label).sort(), want, `filter ${c.filter}`)
  })
})

scenario('postgresChangesFilter() builder: quoted values and the other operators', async (ctx) => {
  const client = ctx.client('sub')
  const g = uniqueTopic('builder')
  const titles = ['a,b', 'c "q"', ' sp ', 'C:\\tmp', 'has, comma (and parens)', 'Plain']
  const done = [null, true, false, null, false, true]
  const f = () => pcf().eq('grp', g)
  const cases = [
    [f().in('title', ['a,b', 'c "q"', ' sp ', 'C:\\tmp']), [1, 2, 3, 4]],
    [f().eq('title', 'has, comma (and parens)'), [5]],
    [f().eq('title', ' sp '), [3]],
    [f().eq('title', 'C:\\tmp'), [4]],
    [f().ilike('title', 'plain'), [6]],
    [f().is('done', null), [1, 4]],
    [f().not('done', 'is', null), [2, 3, 5, 6]],
    [f().isDistinct('done', true), [1, 3, 4, 5]],
    [f().gte('n', 2).lte('n', 3), [2, 3]],
    [f().match('title', '^[A-Z]'), [4, 6]],
    [f(), [1, 2, 3, 4, 5, 6]], // sentinel
  ]
  const chans = cases.map(([filter]) =>
    pgChannel(client, uniqueTopic('pg-bld'), [{ event: 'INSERT', schema: 'public', table: 'todos_full', filter }])
  )
  await Promise.all(chans.map(subscribeReady))
  const rows = titles.map((t, i) => `(${lit(g)}, ${lit(t)}, ${i + 1}, ${done[i] === null ? 'null' : done[i]})`)
  await sql(`insert into public.todos_full (grp, title, n, done) values ${rows.join(', ')}`)
  await waitFor(() => chans.at(-1).got[0].length >= 6, 'six inserts at the sentinel', WAIT)
  await sleep(300)
  cases.forEach(([filter, want], i) => {
    assert.deepEqual(chans[i].got[0].map((p) => p.new.n).sort(byNum), want, `filter ${filter.build()}`)
  })
})

scenario('two bindings with the same event: ids route each change to the right listener', async (ctx) => {
  const client = ctx.client('sub')
  const g = uniqueTopic('ids')
  const pc = pgChannel(client, uniqueTopic('pg-ids'), [
    { event: 'INSERT', schema: 'public', table: 'todos', filter: `title=eq.${g}-x` },
    { event: 'INSERT', schema: 'public', table: 'todos', filter: `title=eq.${g}-y` },
    { event: '*', schema: 'public', table: 'todos', filter: `grp=eq.${g}` },
  ])
  await subscribeReady(pc)
  const [x, y, z] = await sqlIds(`insert into public.todos (grp, title) values
    (${lit(g)}, ${lit(g + '-x')}), (${lit(g)}, ${lit(g + '-y')}), (${lit(g)}, ${lit(g + '-z')}) returning id`)
  await waitFor(() => pc.got[2].length >= 3, '3 inserts at the * binding', WAIT)
  await sleep(300)
  assert.deepEqual(pc.got.map((got) => got.map(rowId)), [[x], [y], [x, y, z]])

  const [bx, by, ball] = bindingIds(client, pc.topic)
  const frames = changeFrames(client, pc.topic, [x, y, z])
  assert.deepEqual(
    frames.map((f) => [dataId(f.payload.data), [...f.payload.ids].sort(byNum)]),
    [
      [x, [bx, ball].sort(byNum)],
      [y, [by, ball].sort(byNum)],
      [z, [ball]],
    ]
  )
})

scenario('schema-wide binding receives every published table; echo keeps the missing table key', async (ctx) => {
  const client = ctx.client('sub')
  const g = uniqueTopic('schema')
  const pc = pgChannel(client, uniqueTopic('pg-schema'), [{ event: 'INSERT', schema: 'public' }])
  await subscribeReady(pc)
  const [a] = await sqlIds(`insert into public.todos (grp) values (${lit(g)}) returning id`)
  const [b] = await sqlIds(`insert into public.todos_full (grp) values (${lit(g)}) returning id`)
  const mine = () => pc.got[0].filter((p) => p.new.grp === g)
  await waitFor(() => mine().length >= 2, 'inserts of both tables', WAIT)
  assert.deepEqual(
    mine().map((p) => [p.table, p.new.id]),
    [
      ['todos', a],
      ['todos_full', b],
    ]
  )
  const echoed = joinReply(client, pc.topic).payload.response.postgres_changes
  assert.equal(echoed.length, 1)
  assert.ok(!('table' in echoed[0]), `the binding must be echoed verbatim: ${JSON.stringify(echoed[0])}`)
})

scenario('RLS: authenticated users see only their rows, anon sees none (DELETE: key only, to all)', async (ctx) => {
  const g = uniqueTopic('rls')
  const alice = `alice-${g}`
  const bob = `bob-${g}`
  const now = Math.floor(Date.now() / 1000)
  const token = (sub) => signHS256({ role: 'authenticated', sub, iat: now - 10, exp: now + 3600 })
  const binding = [{ event: '*', schema: 'public', table: 'notes' }]

  const aliceClient = ctx.client('alice')
  await aliceClient.setAuth(token(alice))
  // supabase-js style: an accessToken callback, resolved by setAuth() before joining.
  const bobClient = ctx.client('bob', { accessToken: async () => token(bob) })
  await bobClient.setAuth()
  const anonClient = ctx.client('anon')
  const [a, b, n] = [aliceClient, bobClient, anonClient].map((c) => pgChannel(c, uniqueTopic('pg-rls'), binding))
  await Promise.all([a, b, n].map(subscribeReady))

  const [a1, b1, a2] = await sqlIds(`insert into public.notes (owner, body) values
    (${lit(alice)}, 'a1'), (${lit(bob)}, 'b1'), (${lit(alice)}, 'a2') returning id`)
  const ours = [a1, b1, a2]
  const seen = (pc) => pc.got[0].filter(about(ours))
  // RLS is evaluated against the row as it is when the change is processed, so the inserts are
  // delivered before the rows change again.
  await waitFor(() => seen(a).length >= 2 && seen(b).length >= 1, 'inserts at alice and bob', WAIT)
  await sql(`update public.notes set body = 'a1 edited' where id = ${a1}`)
  await sql(`update public.notes set body = 'b1 edited' where id = ${b1}`)
  await waitFor(() => seen(a).length >= 3 && seen(b).length >= 2, 'updates at alice and bob', WAIT)
  await sql(`delete from public.notes where id = ${b1}`)
  await waitFor(() => seen(a).length >= 4 && seen(b).length >= 3 && seen(n).length >= 1, 'all changes', WAIT)
  await sleep(300)

  const labels = (pc) => seen(pc).map((p) => `${p.eventType}:${rowId(p)}`)
  assert.deepEqual(labels(a), [`INSERT:${a1}`, `INSERT:${a2}`, `UPDATE:${a1}`, `DELETE:${b1}`], 'alice')
  assert.deepEqual(labels(b), [`INSERT:${b1}`, `UPDATE:${b1}`, `DELETE:${b1}`], 'bob')
  assert.deepEqual(labels(n), [`DELETE:${b1}`], 'anon: no policy, so only the DELETE (docs/protocol.md#row-visibility)')
  for (const pc of [a, b, n]) {
    assert.deepEqual(seen(pc).at(-1).old, { id: b1 }, 'DELETE on an RLS table keeps only the primary key')
  }
  assert.equal(seen(a)[0].new.owner, alice)
  assert.equal(seen(a)[2].new.body, 'a1 edited')
  // realtime-js put the user token into the join payloads.
  for (const [c, pc] of [
    [aliceClient, a],
    [bobClient, b],
  ]) {
    const join = c.frames.parsed('>').find((f) => Array.isArray(f) && f[3] === 'phx_join' && f[2] === `realtime:${pc.topic}`)
    assert.equal(join[4].access_token, '<jwt>', 'the join must carry access_token')
  }
})

scenario('readiness: a row committed right after "Subscribed to PostgreSQL" is delivered', async (ctx) => {
  const client = ctx.client('sub')
  for (let i = 0; i < 6; i++) {
    const g = uniqueTopic('ready')
    // Alternate unfiltered and filtered bindings (a filter is compiled before readiness).
    const binding = { event: 'INSERT', schema: 'public', table: i % 2 ? 'todos' : 'todos_full' }
    if (i % 2) binding.filter = `grp=eq.${g}`
    const pc = pgChannel(client, uniqueTopic('pg-ready'), [binding])
    await subscribeReady(pc)
    const [id] = await sqlIds(`insert into public.${binding.table} (grp) values (${lit(g)}) returning id`)
    await waitFor(() => pc.got[0].some((p) => p.new.id === id), `row ${id} inserted right after readiness (round ${i})`, WAIT)

    // The system push follows the join reply and carries the join_ref, ref null (docs/protocol.md#system-messages).
    const frames = client.frames.parsed('<').filter((f) => Array.isArray(f) && f[2] === `realtime:${pc.topic}`)
    const replyAt = frames.findIndex((f) => f[3] === 'phx_reply')
    const systemAt = frames.findIndex((f) => f[3] === 'system')
    assert.ok(replyAt >= 0 && systemAt > replyAt, 'system message must follow the join reply')
    assert.equal(frames[systemAt][0], frames[replyAt][0], 'system message carries the join_ref')
    assert.equal(frames[systemAt][1], null)
    await pc.ch.unsubscribe()
  }
})

const errorCases = [
  [{ filter: 'wrong' }, 'Error parsing `filter` params: ["wrong"]'],
  [{ filter: 'title=in.abc' }, 'Error parsing `filter` params: `in` filter value must be wrapped by parentheses'],
  [{ filter: 'id=eq.1,,title=eq.x' }, 'Error parsing `filter` params: filter must not contain empty segments (check for extra commas)'],
  [
    { event: 'INSERT', filter: 'notacolumn=eq.1' },
    'Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: ' +
      '[event: INSERT, schema: public, table: todos, filters: [{"notacolumn", "eq", "1", false}], select: nil]. ' +
      'Exception: ERROR P0001 (raise_exception) invalid column for filter notacolumn',
  ],
  [
    { event: 'INSERT', table: 'not_published' },
    'Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: ' +
      '[event: INSERT, schema: public, table: not_published, filters: [], select: nil]',
  ],
]

for (const [over, message] of errorCases) {
  scenario(`subscribe error via system message: ${over.filter ?? over.table}`, async (ctx) => {
    const client = ctx.client('sub')
    const binding = { event: '*', schema: 'public', table: 'todos', ...over }
    const pc = pgChannel(client, uniqueTopic('pg-err'), [binding])
    // The join itself succeeds and echoes the binding (docs/protocol.md#join-reply); the failure is a system push.
    await subscribe(pc.ch)
    const s = await waitFor(() => pgSystem(pc), 'postgres_changes system message', WAIT)
    assert.deepEqual(s, { extension: 'postgres_changes', status: 'error', message, channel: pc.topic })
    await sleep(300)
    assert.equal(pc.system.filter((m) => m.extension === 'postgres_changes').length, 1, 'not retried, no later ok')
    assert.equal(joinReply(client, pc.topic).payload.response.postgres_changes[0].filter, binding.filter)
  })
}

scenario('unsubscribe stops deliveries to that channel only', async (ctx) => {
  const client = ctx.client('sub')
  const g = uniqueTopic('unsub')
  const binding = [{ event: 'INSERT', schema: 'public', table: 'todos', filter: `grp=eq.${g}` }]
  const left = pgChannel(client, uniqueTopic('pg-left'), binding)
  const stays = pgChannel(client, uniqueTopic('pg-stays'), binding)
  await Promise.all([subscribeReady(left), subscribeReady(stays)])
  const [r1] = await sqlIds(`insert into public.todos (grp) values (${lit(g)}) returning id`)
  await waitFor(() => left.got[0].length >= 1 && stays.got[0].length >= 1, 'first row at both', WAIT)
  assert.equal(await left.ch.unsubscribe(), 'ok')
  const [r2] = await sqlIds(`insert into public.todos (grp) values (${lit(g)}) returning id`)
  await waitFor(() => stays.got[0].length >= 2, 'second row at the remaining channel', WAIT)
  await sleep(300)
  assert.deepEqual(stays.got[0].map(rowId), [r1, r2])
  assert.deepEqual(
    changeFrames(client, left.topic, [r1, r2]).map((f) => dataId(f.payload.data)),
    [r1],
    'no postgres_changes frame for a channel after it left'
  )
})

scenario('setAuth on a joined channel re-subscribes with the new claims (RLS now lets rows through)', async (ctx) => {
  const g = uniqueTopic('reauth')
  const carol = `carol-${g}`
  const now = Math.floor(Date.now() / 1000)
  const client = ctx.client('anon-then-carol')
  const notes = pgChannel(client, uniqueTopic('pg-reauth'), [{ event: '*', schema: 'public', table: 'notes' }])
  const marker = pgChannel(client, uniqueTopic('pg-marker'), [
    { event: 'INSERT', schema: 'public', table: 'todos', filter: `grp=eq.${g}` },
  ])
  await Promise.all([subscribeReady(notes), subscribeReady(marker)])

  // One transaction: once the todos marker arrives, the note before it has been processed.
  const [r1] = (
    await sql(`insert into public.notes (owner, body) values (${lit(carol)}, 'hidden') returning id;
      insert into public.todos (grp) values (${lit(g)})`)
  )
    .split('\n')
    .map(Number)
  await waitFor(() => marker.got[0].length >= 1, 'marker row', WAIT)
  assert.deepEqual(notes.got[0].filter(about([r1])), [], 'anon must not see the note')

  await client.setAuth(signHS256({ role: 'authenticated', sub: carol, iat: now - 10, exp: now + 3600 }))
  const oks = () => notes.system.filter((s) => s.extension === 'postgres_changes' && s.status === 'ok')
  await waitFor(() => oks().length >= 2, 'a second "Subscribed to PostgreSQL" after the token refresh (docs/protocol.md#system-messages)', WAIT)
  const [r2] = await sqlIds(`insert into public.notes (owner, body) values (${lit(carol)}, 'visible') returning id`)
  await sql(`update public.notes set body = 'hidden, now visible' where id = ${r1}`)
  await waitFor(() => notes.got[0].filter(about([r1, r2])).length >= 2, 'carol sees her rows', WAIT)
  assert.deepEqual(
    notes.got[0].filter(about([r1, r2])).map((p) => `${p.eventType}:${rowId(p)}`),
    [`INSERT:${r2}`, `UPDATE:${r1}`]
  )
})

scenario('select: only the selected columns plus the primary key', async (ctx) => {
  const client = ctx.client('sub')
  const g = uniqueTopic('select')
  const pc = pgChannel(client, uniqueTopic('pg-select'), [
    { event: 'INSERT', schema: 'public', table: 'todos', select: ['title', 'done'] },
  ])
  await subscribeReady(pc)
  const [id] = await sqlIds(`insert into public.todos (grp, title, done, n) values (${lit(g)}, 'picked', true, 3) returning id`)
  await waitFor(() => pc.got[0].some(about([id])), 'the insert', WAIT)
  assert.deepEqual(pc.got[0].find(about([id])).new, { id, title: 'picked', done: true })
  const [frame] = changeFrames(client, pc.topic, [id])
  assert.deepEqual(frame.payload.data.columns, [
    { name: 'id', type: 'int4' },
    { name: 'title', type: 'text' },
    { name: 'done', type: 'bool' },
  ])
})

scenario('oversized change: Error 413 and only small values (docs/protocol.md#row-visibility)', async (ctx) => {
  const client = ctx.client('sub')
  const g = uniqueTopic('big')
  const pc = pgChannel(client, uniqueTopic('pg-big'), [
    { event: 'INSERT', schema: 'public', table: 'todos', filter: `grp=eq.${g}` },
  ])
  await subscribeReady(pc)
  // ~1.1 MB of incompressible text: above the default max_record_bytes (1,048,576).
  const [id] = await sqlIds(`insert into public.todos (grp, title, n)
    values (${lit(g)}, (select string_agg(md5(i::text), '') from generate_series(1, 35000) i), 5) returning id`)
  await waitFor(() => pc.got[0].length >= 1, 'the oversized insert', WAIT)
  const p = pc.got[0][0]
  assert.deepEqual(p.errors, ['Error 413: Payload Too Large'])
  assert.equal(p.new.id, id)
  assert.equal(p.new.grp, g)
  assert.equal(p.new.n, 5)
  assert.ok(!('title' in p.new), 'values longer than 64 bytes of JSON are dropped')
})

scenario('readiness under a continuous writer: every commit started after the system message arrives', async (ctx) => {
  const client = ctx.client('sub')
  const g = uniqueTopic('stream')
  const started = new Map() // row id -> ms when its INSERT was sent
  let writing = true
  let writerError
  const writer = (async () => {
    while (writing) {
      const t = Date.now()
      const [id] = await sqlIds(`insert into public.todos (grp) values (${lit(g)}) returning id`)
      started.set(id, t)
    }
  })().catch((e) => (writerError = e))
  try {
    for (let round = 0; round < 4; round++) {
      const pc = pgChannel(client, uniqueTopic('pg-stream'), [
        { event: 'INSERT', schema: 'public', table: 'todos', filter: `grp=eq.${g}` },
      ])
      await subscribeReady(pc)
      const readyAt = Date.now()
      const after = () => [...started].filter(([, t]) => t > readyAt).map(([id]) => id)
      await waitFor(() => after().length >= 3 || writerError, 'three commits after readiness', WAIT)
      if (writerError) throw writerError
      const want = after()
      await waitFor(() => want.every((id) => pc.got[0].some(about([id]))), `rows ${want} at round ${round}`, WAIT)
      await pc.ch.unsubscribe()
    }
  } finally {
    writing = false
    await writer
  }
})

scenario('table added to the publication while streaming; TRUNCATE ignored; ADD COLUMN and new types', async (ctx) => {
  const client = ctx.client('sub')
  const t = `dyn_${Math.random().toString(36).slice(2, 10)}`
  await sql(`create table public.${t} (id int primary key, v text);
    grant select on public.${t} to anon, authenticated;
    alter publication supabase_realtime add table public.${t}`)
  const pc = pgChannel(client, uniqueTopic('pg-dyn'), [{ event: '*', schema: 'public', table: t }])
  await subscribeReady(pc)
  await sql(`insert into public.${t} values (1, 'a')`)
  await waitFor(() => pc.got[0].length >= 1, 'insert into the newly published table', WAIT)
  await sql(`truncate public.${t}`)
  // A type created after the stream started, and new columns (new Relation message).
  await sql(`create type public.${t}_mood as enum ('ok', 'meh');
    alter table public.${t} add column m public.${t}_mood, add column extra int4[] default '{1,2}'`)
  await sql(`insert into public.${t} (id, v, m) values (2, 'b', 'meh')`)
  await sql(`update public.${t} set m = 'ok' where id = 2`)
  await waitFor(() => pc.got[0].length >= 3, 'insert and update after the DDL', WAIT)
  await sleep(300)

  assert.deepEqual(
    pc.got[0].map((p) => [p.eventType, p.new]),
    [
      ['INSERT', { id: 1, v: 'a' }],
      ['INSERT', { id: 2, v: 'b', m: 'meh', extra: [1, 2] }],
      ['UPDATE', { id: 2, v: 'b', m: 'ok', extra: [1, 2] }],
    ],
    'TRUNCATE is never delivered (docs/protocol.md#row-visibility); columns follow ALTER TABLE'
  )
  const frames = framesOf(client, 'postgres_changes').filter((f) => f.topic === `realtime:${pc.topic}`)
  assert.deepEqual(frames.at(-1).payload.data.columns, [
    { name: 'id', type: 'int4' },
    { name: 'v', type: 'text' },
    { name: 'm', type: `${t}_mood` },
    { name: 'extra', type: '_int4' },
  ])
})
