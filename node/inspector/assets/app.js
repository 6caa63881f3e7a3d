// The channel view of the inspector: connect, join one channel, log every frame as it arrives,
// keep the presence list, send broadcasts (WebSocket or REST), and show the realtime-js snippet
// of the same subscription. Strings from the network only ever reach the page as textContent.
'use strict';

const $ = (id) => document.getElementById(id);
const MAX_LOG = 500;

const ui = {
  socket: null,
  topic: null, // wire topic of the joined channel
  joinRef: null,
  presence: new PresenceList(),
  session: null,
};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c != null) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

function pretty(v) {
  try {
    return JSON.stringify(v, null, 2);
  } catch (e) {
    return String(v);
  }
}

// log adds one entry: kind (broadcast, presence, postgres_changes, system, reply, close, error,
// sent, info), a one-line summary and an optional payload shown as JSON.
function log(kind, summary, payload) {
  const list = $('log');
  const entry = el('li', { class: 'entry kind-' + kind, 'data-kind': kind },
    el('time', {}, new Date().toISOString().slice(11, 23)),
    el('span', { class: 'kind' }, kind),
    el('span', { class: 'summary' }, summary));
  if (payload !== undefined) entry.append(el('pre', { class: 'payload' }, pretty(payload)));
  list.prepend(entry);
  while (list.children.length > MAX_LOG) list.lastChild.remove();
  applyFilter(entry);
}

function applyFilter(entry) {
  const box = document.querySelector('#log-filters input[value="' + entry.dataset.kind + '"]');
  entry.hidden = box ? !box.checked : false;
}

function setChannelState(text) {
  $('channel-state').textContent = text;
  const joined = text === 'joined';
  $('join').disabled = joined;
  $('leave').disabled = !joined;
  for (const id of ['send-ws', 'track', 'untrack']) $(id).disabled = !joined;
}

function renderPresence() {
  const list = $('presence-list');
  list.replaceChildren();
  const keys = Object.keys(ui.presence.state).sort();
  for (const key of keys) {
    const metas = ui.presence.state[key].map((m) => {
      const copy = Object.assign({}, m);
      delete copy.phx_ref;
      delete copy.phx_ref_prev;
      return JSON.stringify(copy);
    });
    list.append(el('li', { 'data-key': key }, el('strong', {}, key), ' ', el('span', {}, metas.join(' '))));
  }
  $('presence-count').textContent = String(keys.length);
}

// onFrame routes one server frame to the log and the presence list.
function onFrame(msg) {
  const p = msg.payload || {};
  switch (msg.event) {
    case 'broadcast':
      log('broadcast', 'event ' + p.event, p.payload !== undefined ? p.payload : p);
      break;
    case 'presence_state':
      ui.presence.reset(p);
      renderPresence();
      log('presence', 'state: ' + Object.keys(p).length + ' key(s)', p);
      break;
    case 'presence_diff': {
      const { joins, leaves } = ui.presence.apply(p);
      renderPresence();
      for (const k of joins) log('presence', 'join ' + k, p.joins[k]);
      for (const k of leaves) log('presence', 'leave ' + k, p.leaves[k]);
      break;
    }
    case 'postgres_changes': {
      const d = p.data || {};
      log('postgres_changes', d.type + ' ' + d.schema + '.' + d.table + ' ids ' + JSON.stringify(p.ids), d);
      break;
    }
    case 'system':
      log('system', (p.extension || '') + ' ' + (p.status || '') + ': ' + (p.message || ''), p);
      break;
    case 'phx_close':
      log('close', 'channel closed by the server', p);
      if (msg.ref === ui.joinRef) setChannelState('closed');
      break;
    case 'phx_error':
      log('error', 'channel error', p);
      if (msg.ref === ui.joinRef) setChannelState('errored');
      break;
    case 'phx_reply':
      if (msg.ref !== ui.joinRef) log('reply', 'reply ' + (p.status || '') + ' (ref ' + msg.ref + ')', p.response);
      break;
    default:
      log('info', msg.event, p);
  }
}

function bindingRows() {
  return Array.from(document.querySelectorAll('#bindings .binding')).map((row) => {
    const b = { event: row.querySelector('.b-event').value, schema: row.querySelector('.b-schema').value.trim() };
    const table = row.querySelector('.b-table').value.trim();
    const filter = row.querySelector('.b-filter').value.trim();
    if (table) b.table = table;
    if (filter) b.filter = filter;
    return b;
  });
}

function addBinding(b) {
  b = b || { event: '*', schema: 'public' };
  const event = el('select', { class: 'b-event', title: 'event' });
  for (const e of ['*', 'INSERT', 'UPDATE', 'DELETE']) event.append(el('option', { value: e, selected: e === b.event }, e));
  const row = el('div', { class: 'binding' }, event,
    el('input', { class: 'b-schema', placeholder: 'schema', value: b.schema || '' }),
    el('input', { class: 'b-table', placeholder: 'table', value: b.table || '' }),
    el('input', { class: 'b-filter', placeholder: 'filter, e.g. id=eq.1', value: b.filter || '' }),
    el('button', { type: 'button', class: 'b-remove', title: 'remove', onclick: () => { row.remove(); renderSnippet(); } }, '×'));
  row.addEventListener('input', renderSnippet);
  $('bindings').append(row);
  renderSnippet();
}

function joinConfig() {
  return {
    broadcast: { self: $('self').checked, ack: $('ack').checked },
    presence: { key: $('presence-key').value.trim(), enabled: $('presence-enabled').checked },
    postgres_changes: bindingRows(),
    private: $('private').checked,
  };
}

async function join() {
  const topic = $('topic').value.trim();
  const token = $('token').value.trim();
  const endpoint = $('endpoint').value.trim();
  if (!topic || !token || !endpoint) {
    log('error', 'topic, endpoint and token are required');
    return;
  }
  sessionStorage.setItem('inspector.token', token);
  if (!ui.socket || !ui.socket.isOpen() || ui.socket.endpoint !== endpoint || ui.socket.token !== token) {
    if (ui.socket) ui.socket.close();
    ui.socket = new InspectorSocket(endpoint, token, onFrame, (s) => {
      $('socket-state').textContent = s;
      if (s.startsWith('closed')) setChannelState('closed');
    });
    try {
      await ui.socket.connect();
    } catch (e) {
      log('error', String(e.message || e));
      return;
    }
  }
  if (ui.topic) await leave();
  ui.topic = 'realtime:' + topic;
  ui.presence.reset({});
  renderPresence();
  const payload = { config: joinConfig(), access_token: token };
  setChannelState('joining');
  log('sent', 'phx_join ' + ui.topic, payload.config);
  const joinRef = String(ui.socket.ref + 1);
  ui.joinRef = joinRef;
  const reply = await ui.socket.push(ui.topic, 'phx_join', payload, joinRef);
  log('reply', 'join reply: ' + reply.status, reply.response);
  setChannelState(reply.status === 'ok' ? 'joined' : 'join failed');
}

async function leave() {
  if (!ui.topic || !ui.socket) return;
  const topic = ui.topic;
  ui.topic = null;
  const reply = await ui.socket.push(topic, 'phx_leave', {}, ui.joinRef);
  log('reply', 'leave reply: ' + reply.status, reply.response);
  setChannelState('closed');
}

function sendPayload() {
  try {
    return JSON.parse($('send-payload').value);
  } catch (e) {
    $('send-result').textContent = 'payload is not JSON: ' + e.message;
    return undefined;
  }
}

async function sendWS() {
  const payload = sendPayload();
  if (payload === undefined) return;
  const event = $('send-event').value.trim();
  const body = { type: 'broadcast', event, payload };
  log('sent', 'broadcast ' + event + ' (WebSocket)', payload);
  if ($('ack').checked) {
    const reply = await ui.socket.push(ui.topic, 'broadcast', body, ui.joinRef);
    $('send-result').textContent = 'WebSocket: ' + reply.status;
  } else {
    ui.socket.push(ui.topic, 'broadcast', body, ui.joinRef, 1000);
    $('send-result').textContent = 'WebSocket: sent';
  }
}

async function sendREST() {
  const payload = sendPayload();
  if (payload === undefined) return;
  const event = $('send-event').value.trim();
  const topic = $('topic').value.trim();
  const msg = { topic, event, payload, private: $('private').checked };
  log('sent', 'broadcast ' + event + ' (REST)', msg);
  try {
    const res = await fetch(restBase($('endpoint').value.trim()) + '/api/broadcast', {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: $('token').value.trim() },
      body: JSON.stringify({ messages: [msg] }),
    });
    const text = await res.text();
    $('send-result').textContent = 'REST: ' + res.status + (text ? ' ' + text : '');
  } catch (e) {
    $('send-result').textContent = 'REST failed: ' + e;
  }
}

async function track() {
  let meta;
  try {
    meta = JSON.parse($('track-payload').value || '{}');
  } catch (e) {
    log('error', 'track payload is not JSON: ' + e.message);
    return;
  }
  const reply = await ui.socket.push(ui.topic, 'presence', { type: 'presence', event: 'track', payload: meta }, ui.joinRef);
  log('reply', 'track reply: ' + reply.status, reply.response);
}

async function untrack() {
  const reply = await ui.socket.push(ui.topic, 'presence', { type: 'presence', event: 'untrack' }, ui.joinRef);
  log('reply', 'untrack reply: ' + reply.status, reply.response);
}

function renderSnippet() {
  $('snippet').textContent = realtimeSnippet($('endpoint').value.trim(), $('topic').value.trim(), joinConfig());
}

async function start() {
  const res = await fetch('/inspector/api/session', { credentials: 'same-origin' });
  if (!res.ok) {
    location.replace('/inspector');
    return;
  }
  ui.session = await res.json();
  const node = ui.session.node || {};
  $('whoami').textContent = (ui.session.kind === 'admin' ? 'admin' : 'tenant ' + ui.session.tenant) +
    ' · node ' + (node.name || '?') + ' (' + (node.region || '?') + ')';
  $('tenant').value = sessionStorage.getItem('inspector.tenant') || ui.session.tenant || '';
  $('token').value = sessionStorage.getItem('inspector.token') || '';
  $('endpoint').value = endpointFor($('tenant').value.trim());
  $('tab-node').hidden = ui.session.kind !== 'admin';
  addBinding();
  setChannelState('closed');
  $('tenant').addEventListener('change', () => {
    $('endpoint').value = endpointFor($('tenant').value.trim());
    renderSnippet();
  });
  for (const id of ['topic', 'endpoint', 'presence-key']) $(id).addEventListener('input', renderSnippet);
  for (const id of ['private', 'self', 'ack', 'presence-enabled']) $(id).addEventListener('change', renderSnippet);
  $('add-binding').addEventListener('click', () => addBinding());
  $('join').addEventListener('click', join);
  $('leave').addEventListener('click', leave);
  $('send-ws').addEventListener('click', sendWS);
  $('send-rest').addEventListener('click', sendREST);
  $('track').addEventListener('click', track);
  $('untrack').addEventListener('click', untrack);
  $('clear-log').addEventListener('click', () => $('log').replaceChildren());
  $('log-filters').addEventListener('change', () => document.querySelectorAll('#log .entry').forEach(applyFilter));
  $('copy-snippet').addEventListener('click', copySnippet);
  $('logout').addEventListener('click', async () => {
    sessionStorage.clear();
    await fetch('/inspector/logout', { method: 'POST', credentials: 'same-origin' });
    location.replace('/inspector');
  });
  $('tab-channel').addEventListener('click', () => showView('channel'));
  $('tab-node').addEventListener('click', () => showView('node'));
  renderSnippet();
  document.body.dataset.ready = 'true';
}

function showView(name) {
  $('view-channel').hidden = name !== 'channel';
  $('view-node').hidden = name !== 'node';
  $('tab-channel').classList.toggle('active', name === 'channel');
  $('tab-node').classList.toggle('active', name === 'node');
  if (name === 'node') nodeView.start();
  else nodeView.stop();
}

document.addEventListener('DOMContentLoaded', () => {
  start().catch((e) => log('error', 'start: ' + e));
});
