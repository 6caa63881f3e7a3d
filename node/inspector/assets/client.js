// A small client of the node's own protocol (Phoenix V1 JSON objects, vsn=1.0.0), the same
// wire protocol realtime-js speaks: socket with heartbeat, one channel at a time, pushes with
// replies. No library, no build step.
'use strict';

class InspectorSocket {
  // onFrame(msg) sees every frame from the server; onState(text) the socket's state.
  constructor(endpoint, token, onFrame, onState) {
    this.endpoint = endpoint;
    this.token = token;
    this.onFrame = onFrame;
    this.onState = onState;
    this.ref = 0;
    this.pending = new Map(); // ref -> {resolve, timer}
    this.ws = null;
    this.heartbeat = null;
  }

  url() {
    const u = new URL(this.endpoint.replace(/\/+$/, '') + '/websocket');
    u.searchParams.set('apikey', this.token);
    u.searchParams.set('vsn', '1.0.0');
    return u.toString();
  }

  connect() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url());
      } catch (e) {
        reject(e);
        return;
      }
      this.ws = ws;
      this.onState('connecting');
      ws.onopen = () => {
        this.onState('open');
        this.heartbeat = setInterval(() => this.push('phoenix', 'heartbeat', {}, null), 25000);
        resolve();
      };
      ws.onerror = () => {
        if (ws.readyState !== WebSocket.OPEN) reject(new Error('WebSocket connection failed (token refused or node unreachable)'));
      };
      ws.onclose = (ev) => {
        clearInterval(this.heartbeat);
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.resolve({ status: 'closed', response: {} });
        }
        this.pending.clear();
        this.onState('closed (' + ev.code + (ev.reason ? ' ' + ev.reason : '') + ')');
      };
      ws.onmessage = (ev) => {
        if (typeof ev.data !== 'string') return; // V1 sockets never get binary frames
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch (e) {
          return;
        }
        if (msg.event === 'phx_reply' && msg.ref != null && this.pending.has(msg.ref)) {
          const p = this.pending.get(msg.ref);
          this.pending.delete(msg.ref);
          clearTimeout(p.timer);
          p.resolve(msg.payload); // the pusher logs its own reply
          return;
        }
        if (msg.topic === 'phoenix' && msg.event === 'phx_reply') return; // late heartbeat replies
        this.onFrame(msg);
      };
    });
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // push sends one message and resolves with the reply's payload ({status, response}), or with
  // status 'timeout' after timeoutMs.
  push(topic, event, payload, joinRef, timeoutMs) {
    const ref = String(++this.ref);
    const msg = { topic, event, payload, ref };
    if (joinRef != null) msg.join_ref = joinRef;
    return new Promise((resolve) => {
      if (!this.isOpen()) {
        resolve({ status: 'closed', response: {} });
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        resolve({ status: 'timeout', response: {} });
      }, timeoutMs || 10000);
      this.pending.set(ref, { resolve, timer });
      this.ws.send(JSON.stringify(msg));
    });
  }

  close() {
    if (this.ws) this.ws.close(1000, 'inspector closed');
    this.ws = null;
  }
}

// Presence keeps the current presence list of a channel from presence_state and presence_diff.
class PresenceList {
  constructor() {
    this.state = {}; // key -> [meta]
  }

  reset(state) {
    this.state = {};
    for (const [key, v] of Object.entries(state || {})) this.state[key] = (v.metas || []).slice();
  }

  // apply returns the keys that joined and left, for the log.
  apply(diff) {
    const joins = diff.joins || {};
    const leaves = diff.leaves || {};
    for (const [key, v] of Object.entries(leaves)) {
      const gone = new Set((v.metas || []).map((m) => m.phx_ref));
      this.state[key] = (this.state[key] || []).filter((m) => !gone.has(m.phx_ref));
      if (this.state[key].length === 0) delete this.state[key];
    }
    for (const [key, v] of Object.entries(joins)) {
      const prev = new Set((v.metas || []).map((m) => m.phx_ref_prev).filter(Boolean));
      const kept = (this.state[key] || []).filter((m) => !prev.has(m.phx_ref));
      this.state[key] = kept.concat(v.metas || []);
    }
    return { joins: Object.keys(joins), leaves: Object.keys(leaves) };
  }
}

// restBase is the REST root of an endpoint as realtime-js computes it: ws -> http, the socket
// suffix removed.
function restBase(endpoint) {
  return endpoint.replace(/^ws/, 'http').replace(/\/+$/, '').replace(/(\/socket\/websocket|\/socket|\/websocket)$/, '');
}
