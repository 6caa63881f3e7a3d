// Changes whose table or column no longer exists when the node decodes them (DDL right after a
// write). Whatever the node does with such a change, the tenant's stream must keep flowing: later
// Postgres Changes and database broadcasts are delivered. Each scenario uses its own tenant and
// database (changes_test.go, TestDroppedRelationsJS), so one stalled stream cannot hide
// or cause the other scenario's result.
import assert from 'node:assert/strict'
import { scenario, subscribe, collect, waitFor, uniqueTopic } from './lib/scenario.mjs'
import { sql } from './lib/db.mjs'

const WAIT = 10000

function tenant(name) {
  const host = process.env[`RT_HOST_${name}`]
  const url = process.env[`RT_DB_URL_${name}`]
  if (!host || !url) throw new Error(`RT_HOST_${name} / RT_DB_URL_${name} not set; run "go test -run TestDroppedRelationsJS"`)
  return { host, q: (query) => sql(query, { url }) }
}

// watcher joins a public channel listening to inserts on public.<table> and to database broadcasts.
async function watcher(ctx, host, table) {
  const topic = uniqueTopic('ddl')
  const ch = ctx.client('sub', { host }).channel(topic)
  const changes = collect(ch, 'postgres_changes', { event: 'INSERT', schema: 'public', table })
  const broadcasts = collect(ch, 'broadcast', { event: 'probe' })
  const system = collect(ch, 'system', {})
  await subscribe(ch)
  await waitFor(() => system.some((s) => s.message === 'Subscribed to PostgreSQL'), 'Subscribed to PostgreSQL', WAIT)
  return { topic, changes, broadcasts }
}

scenario('a column dropped right after a write to it does not stall the stream', async (ctx) => {
  const { host, q } = tenant('DDL_COLUMN')
  await q(`create table public.t (id int primary key, v text);
    grant select on public.t to anon, authenticated;
    alter publication supabase_realtime add table public.t`)
  const w = await watcher(ctx, host, 't')
  // One transaction, so the column is gone by the time the node sees the insert (with separate
  // transactions the same happens whenever the DROP commits before the node processed the row).
  await q(`begin; insert into public.t values (1, 'x'); alter table public.t drop column v; commit`)
  await q(`insert into public.t values (2)`)
  await q(`select realtime.send('{}'::jsonb, 'probe', '${w.topic}', false)`)
  await waitFor(
    () => w.changes.some((p) => p.new.id === 2) && w.broadcasts.length > 0,
    'the later insert and a database broadcast',
    WAIT
  )
  assert.deepEqual(
    w.changes.map((p) => p.new.id),
    [1, 2]
  )
})

scenario('a dropped table with undecoded changes does not stall the stream', async (ctx) => {
  const { host, q } = tenant('DDL_TABLE')
  await q(`create table public.keep (id int primary key);
    grant select on public.keep to anon, authenticated;
    create table public.ephemeral (id int primary key);
    alter publication supabase_realtime add table public.keep, public.ephemeral`)
  const w = await watcher(ctx, host, 'keep')
  // Nobody subscribes to public.ephemeral; its row is in the WAL, its catalog entry is not.
  await q(`begin; insert into public.ephemeral values (1); drop table public.ephemeral; commit`)
  await q(`insert into public.keep values (1)`)
  await q(`select realtime.send('{}'::jsonb, 'probe', '${w.topic}', false)`)
  await waitFor(() => w.changes.length > 0 && w.broadcasts.length > 0, 'an insert into another table and a database broadcast', WAIT)
  assert.deepEqual(
    w.changes.map((p) => p.new.id),
    [1]
  )
})
