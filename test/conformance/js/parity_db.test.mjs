// Upstream behaviours of issue 12 that need a tenant database, through the unmodified realtime-js:
// config.broadcast.replication_ready (docs/protocol.md#post-join-pushes, #system-messages) and presence enabled by the first track on
// private channels (docs/protocol.md#presence-enabling). Fixtures: parity_test.go (policies on realtime.messages for
// `pres-*` topics, read and write, role authenticated).
import assert from 'node:assert/strict'
import { scenario, subscribe, subscribeStatuses, collect, received, waitFor, uniqueTopic } from './lib/scenario.mjs'
import { env, signHS256 } from './lib/env.mjs'

const WAIT = 10000

function userToken(sub) {
  const now = Math.floor(Date.now() / 1000)
  return signHS256({ role: 'authenticated', sub, iat: now - 10, exp: now + 3600 })
}

async function userClient(ctx, name) {
  const client = ctx.client(name)
  await client.setAuth(userToken(name))
  return client
}

// keys returns the presence keys of a realtime-js presenceState() with their metas' `user`.
function members(channel) {
  const out = {}
  for (const [key, metas] of Object.entries(channel.presenceState())) out[key] = metas.map((m) => m.user).sort()
  return out
}

scenario('replication_ready: system message once the replication connection is up', async (ctx) => {
  const channel = ctx.client('ready').channel(uniqueTopic('ready'), { config: { broadcast: { replication_ready: true } } })
  const system = collect(channel, 'system')
  await subscribe(channel)
  await received(system, 1, 'replication system message', WAIT)
  assert.deepEqual(system[0], {
    extension: 'system',
    status: 'ok',
    message: 'Replication connection established',
    channel: channel.subTopic,
  })
})

scenario('replication_ready: frame shape as upstream (join_ref set, ref null)', async (ctx) => {
  const client = ctx.client('ready-frame', { vsn: '2.0.0' })
  const channel = client.channel(uniqueTopic('ready'), { config: { broadcast: { replication_ready: true } } })
  const system = collect(channel, 'system')
  await subscribe(channel)
  await received(system, 1, 'replication system message', WAIT)
  const join = client.frames.parsed('>').find((f) => f[3] === 'phx_join')
  const got = client.frames.parsed('<').find((f) => f[3] === 'system')
  assert.deepEqual(got, [
    join[0],
    null,
    channel.topic,
    'system',
    { extension: 'system', status: 'ok', message: 'Replication connection established', channel: channel.subTopic },
  ])
})

scenario('replication_ready on a tenant without a database: error variant, channel closed', async (ctx) => {
  const client = ctx.client('no-db', { host: process.env.RT_HOST_NODB, token: env.otherToken })
  const channel = client.channel(uniqueTopic('ready'), { config: { broadcast: { replication_ready: true } } })
  const system = collect(channel, 'system')
  const statuses = subscribeStatuses(channel)
  await received(system, 1, 'replication system message', WAIT)
  assert.deepEqual(system[0], {
    extension: 'system',
    status: 'error',
    message: 'Replication connection was not established in time',
    channel: channel.subTopic,
  })
  await waitFor(() => statuses.some((s) => s.status === 'CLOSED'), 'CLOSED')
})

for (const isPrivate of [false, true]) {
  const kind = isPrivate ? 'private' : 'public'
  scenario(`${kind} channel: presence enabled by the first track shows earlier members and gets diffs`, async (ctx) => {
    const topic = uniqueTopic('pres')
    const config = { private: isPrivate }
    const early = (await userClient(ctx, 'early')).channel(topic, { config: { ...config, presence: { key: 'early' } } })
    early.on('presence', { event: 'sync' }, () => {})
    await subscribe(early)
    assert.equal(await early.track({ user: 'early' }), 'ok')

    // No presence listener: realtime-js joins with presence.enabled false.
    const late = (await userClient(ctx, 'late')).channel(topic, { config: { ...config, presence: { key: 'late' } } })
    await subscribe(late)
    assert.equal(await late.track({ user: 'late' }), 'ok')
    await waitFor(
      () => JSON.stringify(members(late)) === JSON.stringify({ early: ['early'], late: ['late'] }),
      `late sees both members (has ${JSON.stringify(members(late))})`,
      WAIT
    )
    // Diffs reach the late channel from now on.
    assert.equal(await early.track({ user: 'early2' }), 'ok')
    await waitFor(() => members(late).early?.[0] === 'early2', `late sees the update (has ${JSON.stringify(members(late))})`, WAIT)
    assert.equal(await early.untrack(), 'ok')
    await waitFor(() => !('early' in members(late)), `late sees the leave (has ${JSON.stringify(members(late))})`, WAIT)
  })
}

// (realtime-js itself refuses replay on public channels; node/server/parity_test.go covers the
// node's answer to that.)
scenario('replay that is not an object is ignored on a private channel', async (ctx) => {
  const client = await userClient(ctx, 'replayer')
  const priv = client.channel(uniqueTopic('pres'), { config: { private: true, broadcast: { replay: 'yesterday' } } })
  await subscribe(priv)
})
