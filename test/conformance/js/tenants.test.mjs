// Tenant configuration changes (docs/protocol.md#socket-lifecycle): editing the tenants file rotates a tenant's secret; its
// sockets get "Server requested disconnect" and close code 1012, other tenants are untouched.
import assert from 'node:assert/strict'
import { readFile, writeFile, rename } from 'node:fs/promises'
import { env, signHS256 } from './lib/env.mjs'
import { scenario, subscribe, collect, received, waitFor, sleep, rawUpgrade, uniqueTopic } from './lib/scenario.mjs'

scenario('secret rotation in the tenants file disconnects that tenant only', async (ctx) => {
  const now = Math.floor(Date.now() / 1000)
  const oldToken = signHS256({ role: 'anon', exp: now + 3600 }, env.reloadable.secret)
  const topic = uniqueTopic('reload')

  const victim = ctx.client('reloadable', { host: env.hosts.reloadable, token: oldToken })
  const vChannel = victim.channel(topic)
  const system = collect(vChannel, 'system')
  await subscribe(vChannel)
  const bystander = ctx.client('bystander')
  const bChannel = bystander.channel(topic)
  const got = collect(bChannel, 'broadcast', { event: 'after' })
  await subscribe(bChannel)

  const newSecret = env.reloadable.secret + '-rotated'
  const file = await readFile(env.tenantsFile, 'utf8')
  assert.ok(file.includes(env.reloadable.secret), 'reloadable secret not found in the tenants file')
  // Write a copy and rename it over the file: a writeFile in place truncates first, and a poll
  // of the node between truncation and write read an empty file, which removed every tenant.
  await writeFile(env.tenantsFile + '.tmp', file.replace(env.reloadable.secret, newSecret))
  await rename(env.tenantsFile + '.tmp', env.tenantsFile)

  await received(system, 1, 'system message after the secret rotation', 8000)
  assert.deepEqual(system[0], { extension: 'system', status: 'ok', message: 'Server requested disconnect' })
  await waitFor(
    () => victim.frames.entries.some((e) => /closed by transport: code=1012/.test(e.text)),
    'socket closed with 1012',
    5000
  )

  // Old token is now refused; a token signed with the new secret is accepted.
  const old = await rawUpgrade({ query: { apikey: oldToken, vsn: '2.0.0' }, host: env.hosts.reloadable })
  assert.equal(old.status, 401)
  const fresh = signHS256({ role: 'anon', exp: now + 3600 }, newSecret)
  const ok = await rawUpgrade({ query: { apikey: fresh, vsn: '2.0.0' }, host: env.hosts.reloadable })
  assert.equal(ok.status, 101)

  // The other tenant's socket was never closed and still works.
  assert.ok(!bystander.frames.entries.some((e) => /closed by transport/.test(e.text)), 'bystander socket was closed')
  const sender = ctx.client('sender').channel(topic)
  await subscribe(sender)
  await sender.send({ type: 'broadcast', event: 'after', payload: {} })
  await received(got, 1, 'bystander broadcast after the reload')
})

scenario('joins rate limit -> ClientJoinRateLimitReached, socket closed 1001, upgrade 429', async (ctx) => {
  // maxJoinsPerSecond: 1 and the 5 s ticks of docs/protocol.md#limits: a handful of joins trigger the limiter at
  // the next tick; the first join after that is refused and the socket closed.
  const client = ctx.client('joiner', { host: env.hosts.joinLimited, token: env.otherToken })
  let refusal
  const deadline = Date.now() + 15000
  for (let i = 0; !refusal && Date.now() < deadline; i++) {
    const ch = client.channel(uniqueTopic(`j${i}`))
    const status = await new Promise((resolve) => {
      ch.subscribe((s, err) => resolve({ s, m: err?.message }))
    })
    if (status.s === 'SUBSCRIBED') {
      await client.removeChannel(ch)
      await sleep(200)
    } else {
      refusal = status
    }
  }
  assert.ok(refusal, 'no join was refused within 15 s')
  assert.deepEqual(refusal, { s: 'CHANNEL_ERROR', m: 'ClientJoinRateLimitReached: Too many joins per second' })
  await waitFor(
    () => client.frames.entries.some((e) => /closed by transport: code=1001/.test(e.text)),
    'socket closed with 1001'
  )
  const res = await rawUpgrade({ query: { apikey: env.otherToken, vsn: '2.0.0' }, host: env.hosts.joinLimited })
  ctx.log('http').note(`upgrade while triggered -> ${res.status} ${res.body}`)
  assert.equal(res.status, 429)
  assert.deepEqual(JSON.parse(res.body), { error: 'Too many joins per second' })
}, { timeout: 40000 })
