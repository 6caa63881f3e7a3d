// Private channels and broadcasts from the database through the unmodified realtime-js
// (docs/protocol.md#database-broadcast to #private-channels). Policies on realtime.messages are created by changes_test.go (dbFixtures):
// authenticated may read `allowed-*` and `readonly-*` topics and write `allowed-*` ones; anon has no
// policy. public.orders has a trigger calling realtime.broadcast_changes(row.topic, TG_OP, ...).
import assert from 'node:assert/strict'
import { scenario, subscribe, subscribeStatuses, collect, received, waitFor, sleep, uniqueTopic } from './lib/scenario.mjs'
import { env, signHS256 } from './lib/env.mjs'
import { sql, lit } from './lib/db.mjs'

const WAIT = 10000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function userToken(sub = 'private-user') {
  const now = Math.floor(Date.now() / 1000)
  return signHS256({ role: 'authenticated', sub, iat: now - 10, exp: now + 3600 })
}

// userClient is a realtime-js client that joins with an authenticated user's token (setAuth).
async function userClient(ctx, name, opts) {
  const client = ctx.client(name, opts)
  await client.setAuth(userToken())
  return client
}

function privateChannel(client, topic, config = {}) {
  return client.channel(topic, { config: { private: true, ...config } })
}

async function firstStatus(channel) {
  const statuses = subscribeStatuses(channel)
  await waitFor(() => statuses.length > 0, `a subscribe status for ${channel.topic}`)
  return statuses[0]
}

const unauthorized = (topic) => `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`

scenario('private channel: a read policy admits the user, broadcast between members', async (ctx) => {
  const topic = uniqueTopic('allowed')
  const sender = privateChannel(await userClient(ctx, 'sender'), topic, { broadcast: { ack: true } })
  const receiver = privateChannel(await userClient(ctx, 'receiver'), topic)
  const got = collect(receiver, 'broadcast', { event: 'hi' })
  await subscribe(receiver)
  await subscribe(sender)
  assert.equal(await sender.send({ type: 'broadcast', event: 'hi', payload: { n: 1 } }), 'ok')
  await received(got, 1, 'private broadcast')
  assert.deepEqual(got[0], { type: 'broadcast', event: 'hi', payload: { n: 1 } })
})

scenario('private channel: no read policy for the topic -> Unauthorized', async (ctx) => {
  const topic = uniqueTopic('denied')
  const st = await firstStatus(privateChannel(await userClient(ctx, 'user'), topic))
  assert.deepEqual(st, { status: 'CHANNEL_ERROR', message: unauthorized(topic) })
})

scenario('private channel: anon has no policy -> Unauthorized; public channel of the same name is fine', async (ctx) => {
  const topic = uniqueTopic('allowed')
  const client = ctx.client('anon')
  const st = await firstStatus(privateChannel(client, topic))
  assert.deepEqual(st, { status: 'CHANNEL_ERROR', message: unauthorized(topic) })
  await subscribe(ctx.client('anon-public').channel(topic))
})

scenario('private channel: read-only policy joins but its broadcasts are dropped without ack', async (ctx) => {
  const topic = uniqueTopic('readonly')
  const sender = privateChannel(await userClient(ctx, 'sender'), topic, { broadcast: { ack: true } })
  const receiver = privateChannel(await userClient(ctx, 'receiver'), topic)
  const got = collect(receiver, 'broadcast', { event: '*' })
  await subscribe(receiver)
  await subscribe(sender)
  // Write denied: dropped silently, no reply even with ack (docs/protocol.md#client-broadcast step 1).
  assert.equal(await sender.send({ type: 'broadcast', event: 'nope', payload: {} }, { timeout: 1500 }), 'timed out')
  // The receiver is live: a database broadcast to the topic reaches it.
  await sql(`select realtime.send('{"probe": true}'::jsonb, 'probe', ${lit(topic)}, true)`)
  await received(got, 1, 'database broadcast to the read-only topic')
  await sleep(200)
  assert.deepEqual(
    got.map((m) => m.event),
    ['probe']
  )
})

for (const vsn of ['1.0.0', '2.0.0']) {
  scenario(`realtime.send reaches private subscribers only; private=false reaches public ones (vsn ${vsn})`, async (ctx) => {
    const topic = uniqueTopic('allowed')
    const privClient = await userClient(ctx, 'private', { vsn })
    const priv = privateChannel(privClient, topic)
    const pub = ctx.client('public', { vsn }).channel(topic)
    const gotPriv = collect(priv, 'broadcast', { event: '*' })
    const gotPub = collect(pub, 'broadcast', { event: '*' })
    await subscribe(priv)
    await subscribe(pub)

    await sql(`select realtime.send('{"x": 1}'::jsonb, 'ev', ${lit(topic)}, true)`)
    await sql(`select realtime.send('{"y": 2}'::jsonb, 'pub', ${lit(topic)}, false)`)
    await received(gotPriv, 1, 'private database broadcast', WAIT)
    await received(gotPub, 1, 'public database broadcast', WAIT)
    await sleep(300)

    assert.equal(gotPriv.length, 1, `private subscriber got ${JSON.stringify(gotPriv)}`)
    assert.equal(gotPub.length, 1, `public subscriber got ${JSON.stringify(gotPub)}`)
    const m = gotPriv[0]
    assert.match(m.meta?.id ?? '', UUID, `meta.id: ${JSON.stringify(m)}`)
    // realtime.send adds the generated id to an object payload (docs/protocol.md#database-broadcast).
    assert.deepEqual(m, { type: 'broadcast', event: 'ev', payload: { x: 1, id: m.meta.id }, meta: { id: m.meta.id } })
    const p = gotPub[0]
    assert.deepEqual(p, { type: 'broadcast', event: 'pub', payload: { y: 2, id: p.meta.id }, meta: { id: p.meta.id } })
    if (vsn === '2.0.0') {
      assert.ok(
        privClient.frames.binaries('<').some((b) => b.text.startsWith('bin kind=4 enc=1') && b.text.includes('"meta":"{\\"id\\"')),
        'V2: a database broadcast arrives as kind 4, JSON encoding, with metadata {"id": ...} (docs/protocol.md#broadcast-delivery)'
      )
    }
  })
}

scenario('realtime.send_binary reaches V2 private subscribers as an ArrayBuffer, never V1', async (ctx) => {
  const topic = uniqueTopic('allowed-bin')
  const v2 = privateChannel(await userClient(ctx, 'v2'), topic)
  const v1 = privateChannel(await userClient(ctx, 'v1', { vsn: '1.0.0' }), topic)
  const got2 = collect(v2, 'broadcast', { event: '*' })
  const got1 = collect(v1, 'broadcast', { event: '*' })
  await subscribe(v2)
  await subscribe(v1)
  await sql(`select realtime.send_binary('\\x0102ff'::bytea, 'bin', ${lit(topic)}, true)`)
  await sql(`select realtime.send('{"after": true}'::jsonb, 'json', ${lit(topic)}, true)`)
  await received(got2, 2, 'binary + JSON at V2', WAIT)
  await received(got1, 1, 'JSON at V1', WAIT)
  await sleep(200)
  const bin = got2.find((m) => m.event === 'bin')
  assert.ok(bin.payload instanceof ArrayBuffer, `binary payload must be an ArrayBuffer: ${JSON.stringify(bin)}`)
  assert.deepEqual([...new Uint8Array(bin.payload)], [1, 2, 255])
  assert.match(bin.meta?.id ?? '', UUID)
  assert.deepEqual(
    got1.map((m) => m.event),
    ['json'],
    'binary database broadcasts are not delivered to V1 (docs/protocol.md#broadcast-delivery)'
  )
})

scenario('postgres_changes on a private channel', async (ctx) => {
  const topic = uniqueTopic('allowed-pg')
  const ch = privateChannel(await userClient(ctx, 'user'), topic)
  const got = collect(ch, 'postgres_changes', { event: 'INSERT', schema: 'public', table: 'todos', filter: `grp=eq.${topic}` })
  const system = collect(ch, 'system', {})
  await subscribe(ch)
  await waitFor(() => system.some((s) => s.message === 'Subscribed to PostgreSQL'), 'Subscribed to PostgreSQL', WAIT)
  const id = Number(await sql(`insert into public.todos (grp, title) values (${lit(topic)}, 'p') returning id`))
  await received(got, 1, 'change on the private channel', WAIT)
  assert.equal(got[0].new.id, id)
  assert.equal(got[0].eventType, 'INSERT')
})

scenario('realtime.broadcast_changes from a trigger reaches a private subscriber', async (ctx) => {
  const topic = uniqueTopic('allowed-orders')
  const ch = privateChannel(await userClient(ctx, 'orders'), topic)
  const got = collect(ch, 'broadcast', { event: '*' })
  await subscribe(ch)
  const id = Number(await sql(`insert into public.orders (topic, details) values (${lit(topic)}, 'new') returning id`))
  await sql(`update public.orders set details = 'changed' where id = ${id}`)
  await sql(`delete from public.orders where id = ${id}`)
  await received(got, 3, 'INSERT, UPDATE, DELETE broadcasts', WAIT)

  const row = (details) => ({ id, topic, details })
  const want = [
    ['INSERT', row('new'), null],
    ['UPDATE', row('changed'), row('new')],
    ['DELETE', null, row('changed')],
  ]
  got.forEach((m, i) => {
    const [op, record, old] = want[i]
    assert.match(m.meta?.id ?? '', UUID)
    assert.deepEqual(m, {
      type: 'broadcast',
      event: op,
      meta: { id: m.meta.id },
      payload: { id: m.meta.id, operation: op, schema: 'public', table: 'orders', record, old_record: old },
    })
  })
})

scenario('setAuth with a token that loses read permission closes the private channel', async (ctx) => {
  const topic = uniqueTopic('allowed')
  const client = await userClient(ctx, 'user')
  const ch = privateChannel(client, topic)
  const system = collect(ch, 'system', {})
  const statuses = subscribeStatuses(ch)
  await waitFor(() => statuses.some((s) => s.status === 'SUBSCRIBED'), 'SUBSCRIBED')
  await client.setAuth(env.tokens.valid) // role anon: no policy on realtime.messages
  await waitFor(() => statuses.some((s) => s.status === 'CLOSED'), 'CLOSED after the token change', WAIT)
  assert.deepEqual(
    system.map((m) => [m.status, m.message]),
    [['error', `You no longer have permission to read from this Channel topic: ${topic}`]]
  )
})

scenario('replay on join delivers stored private messages with meta.replayed', async (ctx) => {
  const topic = uniqueTopic('allowed-replay')
  const since = Date.now() - 1000
  await sql(`select realtime.send('{"n": 1}'::jsonb, 'old', ${lit(topic)}, true)`)
  await sql(`select realtime.send('{"n": 2}'::jsonb, 'old', ${lit(topic)}, true)`)
  const ch = privateChannel(await userClient(ctx, 'replayer'), topic, { broadcast: { replay: { since, limit: 10 } } })
  const got = collect(ch, 'broadcast', { event: 'old' })
  await subscribe(ch)
  await received(got, 2, 'replayed messages')
  await sleep(300)
  assert.deepEqual(
    got.map((m) => [m.payload.n, m.meta.replayed, m.meta.id === m.payload.id]),
    [
      [1, true, true],
      [2, true, true],
    ]
  )
})
