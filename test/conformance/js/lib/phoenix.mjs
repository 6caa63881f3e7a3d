// A plain Phoenix-protocol client: the `Socket` of @supabase/phoenix (pinned in package.json),
// the Phoenix JS client realtime-js is built on, used directly for what realtime-js cannot send:
// config-less (legacy) joins and the LongPoll transport. Frames are recorded like realtime-js's.
import { createRequire } from 'node:module'
// The CommonJS build, the module instance realtime-js itself loads: realtime-js's Socket tells the
// LongPoll transport apart by identity, so realtime-js can be given this LongPoll too.
const { Socket, LongPoll } = createRequire(import.meta.url)('@supabase/phoenix')
export { LongPoll }
import { recordingTransport } from './transport.mjs'
import { env } from './env.mjs'

// phoenixSocket connects a Phoenix Socket. opts.longpoll selects the LongPoll transport (its HTTP
// requests are not recorded frame by frame); other opts go to the Socket.
export function phoenixSocket(ctx, name, { longpoll = false, token = env.tokens.valid, ...opts } = {}) {
  const log = ctx.log(`${name}/phoenix${longpoll ? '-longpoll' : ''}`)
  const socket = new Socket(env.wsURL, {
    transport: longpoll ? LongPoll : recordingTransport(log),
    params: { apikey: token },
    reconnectAfterMs: () => 200,
    logger: (kind, msg, data) => log.note(`${kind}: ${msg} ${data === undefined ? '' : JSON.stringify(data)}`),
    ...opts,
  })
  socket.frames = log
  socket.connect()
  ctx.defer(() => new Promise((resolve) => socket.disconnect(resolve)))
  return socket
}

// join joins a Phoenix channel and resolves with the join reply's response (rejects on error or
// timeout).
export function join(channel) {
  return new Promise((resolve, reject) => {
    channel
      .join()
      .receive('ok', resolve)
      .receive('error', (r) => reject(new Error(`join ${channel.topic} refused: ${JSON.stringify(r)}`)))
      .receive('timeout', () => reject(new Error(`join ${channel.topic} timed out`)))
  })
}

// push sends an event and resolves with {status, response}.
export function push(channel, event, payload) {
  return new Promise((resolve) => {
    channel
      .push(event, payload)
      .receive('ok', (response) => resolve({ status: 'ok', response }))
      .receive('error', (response) => resolve({ status: 'error', response }))
      .receive('timeout', () => resolve({ status: 'timeout' }))
  })
}
