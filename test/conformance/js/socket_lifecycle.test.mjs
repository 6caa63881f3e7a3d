// A socket whose channels have all ended is closed after NO_CHANNEL_TIMEOUT_IN_MS (docs/protocol.md#socket-lifecycle,
// upstream lib/realtime_web/channels/realtime_channel/tracker.ex); the Go test sets it to 500 ms.
import assert from 'node:assert/strict'
import { scenario, subscribe, waitFor, uniqueTopic, sleep } from './lib/scenario.mjs'

scenario('socket with no channel left is closed by the node, realtime-js reconnects', async (ctx) => {
  const client = ctx.client('reaped')
  const channel = client.channel(uniqueTopic('reap'))
  await subscribe(channel)
  assert.equal(await channel.unsubscribe(), 'ok')
  await waitFor(
    () => client.frames.dump().includes('closed by transport: code=1000 reason=no channels'),
    'the node closing the socket',
    5000
  )
})

scenario('a socket that keeps a channel stays open', async (ctx) => {
  const client = ctx.client('kept')
  await subscribe(client.channel(uniqueTopic('keep')))
  await sleep(1500)
  assert.ok(!client.frames.dump().includes('reason=no channels'))
  assert.ok(client.isConnected())
})
