// Refused joins are each answered after CHANNEL_ERROR_BACKOFF_MS without stalling the socket
// (issue 12): the Go test runs this file against a node whose backoff is long enough that a socket
// serialising its refusals would answer later than realtime-js's join timeout.
import assert from 'node:assert/strict'
import { env } from './lib/env.mjs'
import { scenario, subscribe, subscribeStatuses, waitFor, uniqueTopic } from './lib/scenario.mjs'

const refused = 'ChannelRateLimitReached: Too many channels'

scenario('maxChannelsPerClient: every further join gets its error reply', async (ctx) => {
  const backoff = Number(process.env.RT_CHANNEL_ERROR_BACKOFF_MS)
  // realtime-js times a join out after `timeout` ms; four refusals back to back take 4 x backoff
  // when the socket serialises them, more than the timeout.
  const timeout = 2.5 * backoff
  const client = ctx.client('many-channels', { host: env.hosts.limited, token: env.otherToken, timeout })
  await subscribe(client.channel(uniqueTopic('first')), timeout)
  const channels = [0, 1, 2, 3].map((i) => client.channel(uniqueTopic(`extra${i}`)))
  const statuses = channels.map((ch) => subscribeStatuses(ch))
  await waitFor(() => statuses.every((s) => s.length > 0), 'a status for every refused join', 3 * timeout)
  for (const [i, s] of statuses.entries()) {
    assert.deepEqual(s[0], { status: 'CHANNEL_ERROR', message: refused }, `join #${i + 2}`)
  }
  // Every join frame the client sent got a reply with its ref (none was left unanswered).
  const joins = client.frames.parsed('>').filter((f) => f[3] === 'phx_join')
  await waitFor(() => {
    const got = new Set(client.frames.parsed('<').filter((f) => f[3] === 'phx_reply').map((f) => f[1]))
    return joins.every((j) => got.has(j[1]))
  }, 'a reply to every phx_join sent so far', 3 * timeout)
  assert.ok(client.isConnected(), 'the socket stays open')
}, { timeout: 60000 })
