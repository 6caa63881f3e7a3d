// The concurrent-users limit counts sockets with a joined channel on every node (docs/protocol.md#routing
// "Census", #connect-checks): with maxConcurrentUsers 2, one user on n1 and one on n2 fill the tenant, so n3
// refuses a third, both at connect (429) and at join, once the counts have gossiped.
import assert from 'node:assert/strict'
import {
  scenario,
  clientOn,
  subscribe,
  subscribeStatuses,
  waitFor,
  uniqueTopic,
  rawUpgrade,
  status,
  token,
  control,
} from './lib/cluster.mjs'

const GOSSIP_WAIT = 8000 // counters gossip every 3 s and at once to a peer that comes up

const connectStatus = async (id) => (await rawUpgrade(id, { apikey: token(), vsn: '2.0.0' })).status

scenario('maxConcurrentUsers 2: users on n1 and n2 make n3 refuse a third', async (ctx) => {
  const topic = uniqueTopic('users')
  // Connected but not joined: not a user yet (docs/protocol.md#connect-checks), so this connect is accepted.
  const third = clientOn(ctx, 'third', 'n3')
  third.connect()
  await waitFor(() => third.isConnected(), 'third socket connected to n3')

  const first = clientOn(ctx, 'first', 'n1')
  await subscribe(first.channel(topic))
  const second = clientOn(ctx, 'second', 'n2', { vsn: '1.0.0' })
  await subscribe(second.channel(topic))
  assert.deepEqual((await status('n1')).users, { 'cluster-dev': 1 }, 'n1 counts its own user')
  assert.deepEqual((await status('n2')).users, { 'cluster-dev': 1 }, 'n2 counts its own user')

  const t0 = Date.now()
  await waitFor(async () => (await connectStatus('n3')) === 429, 'n3 refusing connects once it knows of 2 users', GOSSIP_WAIT)
  console.log(`n3 refused connects ${Date.now() - t0} ms after the second user joined`)
  const refused = await rawUpgrade('n3', { apikey: token(), vsn: '2.0.0' })
  ctx.log('http').note(`connect to n3 -> ${refused.status} ${refused.body}`)
  assert.equal(refused.status, 429)
  assert.deepEqual(JSON.parse(refused.body), { error: 'Too many connected users' })

  // The socket that connected earlier is refused at join with the upstream reason.
  const statuses = subscribeStatuses(third.channel(topic))
  await waitFor(() => statuses.length > 0, 'status of the third join')
  assert.equal(statuses[0].status, 'CHANNEL_ERROR')
  assert.equal(statuses[0].message, 'ConnectionRateLimitReached: Too many connected users')
  await third.disconnect() // stop realtime-js from rejoining in the background

  // A user leaving n1 frees a place cluster-wide.
  await first.disconnect()
  await waitFor(async () => (await connectStatus('n3')) === 101, 'n3 accepting again after the n1 user left', GOSSIP_WAIT)
  const again = clientOn(ctx, 'again', 'n3', { vsn: '1.0.0' })
  await subscribe(again.channel(topic))
  await waitFor(async () => (await connectStatus('n1')) === 429, 'n1 full again (users on n2 and n3)', GOSSIP_WAIT)

  // The counts of a dead node are dropped with its link (docs/protocol.md#node-failure): n2's user no longer counts.
  await control('kill', { node: 'n2' })
  const t1 = Date.now()
  await waitFor(async () => (await connectStatus('n1')) === 101, 'n1 accepting after n2 died', GOSSIP_WAIT)
  console.log(`n1 accepted again ${Date.now() - t1} ms after SIGKILL of n2`)
  const last = clientOn(ctx, 'last', 'n1')
  await subscribe(last.channel(topic))
})
