// Tokens: refused upgrades (docs/protocol.md#connect-checks), join-time access tokens (#join-pipeline row 7), setAuth refresh and
// expiry (#token-lifecycle, #system-messages, #client-contract item 19).
import assert from 'node:assert/strict'
import { env, tokenExpiringIn } from './lib/env.mjs'
import {
  scenario,
  subscribe,
  subscribeStatuses,
  collect,
  received,
  waitFor,
  sleep,
  rawUpgrade,
  uniqueTopic,
} from './lib/scenario.mjs'

const JSON_CT = /^application\/json; charset=utf-8$/i

const refusals = [
  { name: 'missing token', query: {}, status: 401, error: 'API key is missing' },
  { name: 'expired token', query: { apikey: env.tokens.expired }, status: 401, error: 'Token has expired' },
  {
    name: 'bad signature',
    query: { apikey: env.tokens.badSignature },
    status: 401,
    error: 'Failed to validate JWT signature',
  },
  {
    name: 'token without role',
    query: { apikey: env.tokens.noRole },
    status: 401,
    error: 'Fields `role` and `exp` are required in JWT',
  },
  {
    name: 'malformed token',
    query: { apikey: env.tokens.malformed },
    status: 401,
    error: 'The token provided is not a valid JWT',
  },
  {
    name: 'unknown tenant',
    query: { apikey: env.tokens.valid },
    host: env.hosts.unknown,
    status: 404,
    error: 'Tenant not found',
  },
  {
    name: 'suspended tenant',
    query: { apikey: env.tokens.valid },
    host: env.hosts.suspended,
    status: 403,
    error: 'Realtime was disabled for this tenant',
  },
]

for (const path of ['/socket/websocket', '/realtime/v1/websocket']) {
  for (const r of refusals) {
    scenario(`upgrade refused: ${r.name} (${path})`, async (ctx) => {
      const res = await rawUpgrade({ path, query: { ...r.query, vsn: '2.0.0' }, host: r.host })
      ctx.log('http').note(`GET ${path} -> ${res.status} ${JSON.stringify(res.headers)} ${res.body}`)
      assert.equal(res.status, r.status)
      assert.match(String(res.headers['content-type']), JSON_CT)
      assert.deepEqual(JSON.parse(res.body), { error: r.error })
    })
  }
}

scenario('upgrade refused: unsupported vsn -> 403, empty body', async (ctx) => {
  const res = await rawUpgrade({ query: { apikey: env.tokens.valid, vsn: '3.0.0' } })
  ctx.log('http').note(`-> ${res.status} ${res.body}`)
  assert.equal(res.status, 403)
  assert.equal(res.body, '')
})

scenario('x-api-key header wins over the apikey parameter', async (ctx) => {
  const ok = await rawUpgrade({ query: { apikey: env.tokens.malformed }, headers: { 'x-api-key': env.tokens.valid } })
  ctx.log('http').note(`-> ${ok.status} ${ok.body}`)
  assert.equal(ok.status, 101)
  const no = await rawUpgrade({ query: { apikey: env.tokens.valid }, headers: { 'x-api-key': env.tokens.expired } })
  assert.equal(no.status, 401)
})

for (const [name, token] of [
  ['expired', env.tokens.expired],
  ['bad signature', env.tokens.badSignature],
  ['malformed', env.tokens.malformed],
]) {
  scenario(`realtime-js with a ${name} token never subscribes`, async (ctx) => {
    const client = ctx.client('refused', { token })
    const statuses = subscribeStatuses(client.channel(uniqueTopic('refused')))
    await waitFor(() => statuses.some((s) => s.status === 'CHANNEL_ERROR'), 'CHANNEL_ERROR from the failed connection')
    await sleep(500)
    assert.ok(!statuses.some((s) => s.status === 'SUBSCRIBED'), `got ${JSON.stringify(statuses)}`)
    assert.equal(client.isConnected(), false)
    assert.ok(
      client.frames.entries.some((e) => /Unexpected server response: 401/.test(e.text)),
      'the WebSocket upgrade must be refused with HTTP 401'
    )
  })
}

const joinRefusals = [
  ['expired', env.tokens.expired, /^InvalidJWTToken: Token has expired \d+ seconds ago$/],
  ['malformed', env.tokens.malformed, /^MalformedJWT: The token provided is not a valid JWT$/],
  ['bad signature', env.tokens.badSignature, /^JwtSignatureError: Failed to validate JWT signature$/],
  ['no role', env.tokens.noRole, /^InvalidJWTToken: Fields `role` and `exp` are required in JWT$/],
]

for (const [name, token, reason] of joinRefusals) {
  scenario(`join refused with a ${name} access_token`, async (ctx) => {
    const client = ctx.client('joiner')
    await client.setAuth(token)
    const statuses = subscribeStatuses(client.channel(uniqueTopic('join-token')))
    await waitFor(() => statuses.length > 0, 'a subscribe status')
    assert.equal(statuses[0].status, 'CHANNEL_ERROR')
    assert.match(statuses[0].message, reason)
  })
}

scenario('setAuth with a new valid token keeps the channel', async (ctx) => {
  const topic = uniqueTopic('refresh')
  const client = ctx.client('refresher')
  const channel = client.channel(topic)
  const got = collect(channel, 'broadcast', { event: 'after' })
  const system = collect(channel, 'system')
  const statuses = subscribeStatuses(channel)
  await waitFor(() => statuses.some((s) => s.status === 'SUBSCRIBED'), 'SUBSCRIBED')

  await client.setAuth(env.tokens.valid2)
  const push = client.frames.parsed('>').find((f) => Array.isArray(f) && f[3] === 'access_token')
  assert.ok(push, 'realtime-js did not push access_token')
  await sleep(400)
  const replies = client.frames.parsed('<').filter((f) => f[1] === push[1])
  assert.deepEqual(replies, [], 'access_token pushes get no reply (docs/protocol.md#token-lifecycle)')
  assert.deepEqual(system, [], 'no system message for a valid refresh')
  assert.equal(channel.state, 'joined')

  const sender = ctx.client('sender').channel(topic)
  await subscribe(sender)
  await sender.send({ type: 'broadcast', event: 'after', payload: { ok: true } })
  await received(got, 1, 'broadcast after token refresh')
  assert.deepEqual(statuses.map((s) => s.status), ['SUBSCRIBED'])
})

const shutdowns = [
  ['expired', () => env.tokens.expired, /^Token has expired \d+ seconds ago$/],
  ['malformed', () => 'not-a-jwt', /^The token provided is not a valid JWT$/],
  ['role-less', () => env.tokens.noRole, /^Fields `role` and `exp` are required in JWT$/],
]

for (const [name, token, message] of shutdowns) {
  scenario(`setAuth with a ${name} token closes the channel with a system error`, async (ctx) => {
    const topic = uniqueTopic('bad-refresh')
    const client = ctx.client('refresher')
    const channel = client.channel(topic)
    const system = collect(channel, 'system')
    const statuses = subscribeStatuses(channel)
    await waitFor(() => statuses.some((s) => s.status === 'SUBSCRIBED'), 'SUBSCRIBED')
    await client.setAuth(token())
    await received(system, 1, 'system message')
    assert.equal(system[0].extension, 'system')
    assert.equal(system[0].status, 'error')
    assert.match(system[0].message, message)
    assert.equal(system[0].channel, topic)
    await waitFor(() => statuses.some((s) => s.status === 'CLOSED'), 'CLOSED after phx_close')
    assert.equal(channel.state, 'closed')
  })
}

scenario('access token expiry closes the channel', async (ctx) => {
  const topic = uniqueTopic('expiry')
  const client = ctx.client('short-lived')
  await client.setAuth(tokenExpiringIn(2))
  const channel = client.channel(topic)
  const system = collect(channel, 'system')
  const statuses = subscribeStatuses(channel)
  await waitFor(() => statuses.some((s) => s.status === 'SUBSCRIBED'), 'SUBSCRIBED')
  await received(system, 1, 'system message at token expiry', 6000)
  assert.deepEqual(
    { extension: system[0].extension, status: system[0].status, channel: system[0].channel },
    { extension: 'system', status: 'error', channel: topic }
  )
  assert.match(system[0].message, /^Token has expired \d+ seconds ago$/)
  await waitFor(() => statuses.some((s) => s.status === 'CLOSED'), 'CLOSED')
})
