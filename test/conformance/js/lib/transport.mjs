// WebSocket transport handed to realtime-js through its public `transport` option. Node 20 has no
// global WebSocket, so realtime-js needs one; we give it the `ws` package's class, extended only to
// (a) record every frame into a FrameLog and (b) optionally send a custom Host header, which is how
// the node picks the tenant (docs/protocol.md#tenant-from-host) while we connect to 127.0.0.1. realtime-js itself is
// untouched: it sees a standard WebSocket-like constructor.
import WebSocket from 'ws'

export function recordingTransport(log, { host } = {}) {
  return class RecordingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, host ? { headers: { Host: host } } : {})
      log.note(`open ${url}${host ? ` (Host: ${host})` : ''}`)
      this.on('message', (data, isBinary) => {
        log.add('<', isBinary ? data : data.toString('utf8'))
      })
      this.on('close', (code, reason) => log.note(`closed by transport: code=${code} reason=${reason}`))
      this.on('error', (err) => log.note(`transport error: ${err.message}`))
    }

    send(data, ...rest) {
      log.add('>', data)
      return super.send(data, ...rest)
    }
  }
}
