// The node-wide view (admin sessions): the node's /status data as tables, refreshed every two
// seconds while the view is open. Tables are built from whatever fields the status carries, so a
// new status field shows up without a page change.
'use strict';

const nodeView = {
  timer: null,
  refreshMs: 2000,

  start() {
    if (this.timer) return;
    this.refresh();
    this.timer = setInterval(() => this.refresh(), this.refreshMs);
  },

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  },

  async refresh() {
    let st;
    try {
      const res = await fetch('/inspector/api/status', { credentials: 'same-origin' });
      if (!res.ok) {
        $('node-error').textContent = 'status: ' + res.status;
        return;
      }
      st = await res.json();
    } catch (e) {
      $('node-error').textContent = 'status: ' + e;
      return;
    }
    $('node-error').textContent = '';
    this.render(st);
  },

  render(st) {
    const node = st.node || {};
    summary($('node-summary'), [
      ['node', node.name], ['region', node.region], ['draining', st.draining], ['sockets', st.sockets],
      ['updated', st.time],
    ]);
    table($('node-tenants'), tenantRows(st), ['tenant', 'sockets', 'channels', 'users']);
    table($('node-replication'), st.replication || [],
      ['tenant', 'owned', 'slot', 'streaming', 'confirmedLsn', 'serverLsn', 'lagBytes', 'subscriptions', 'lastError']);
    table($('node-peers'), asRows(st.peers), null);
    table($('node-presence'), asRows(st.presenceReplicas), null);
    const errs = recentErrors(st);
    const list = $('node-errors');
    list.replaceChildren(...errs.map((e) => el('li', {}, e)));
    if (errs.length === 0) list.append(el('li', { class: 'muted' }, 'none'));
    $('node-raw').textContent = pretty(st);
  },
};

// tenantRows joins the per-tenant socket counts with the users count.
function tenantRows(st) {
  const rows = new Map();
  const empty = (id) => ({ tenant: id, sockets: 0, channels: 0, users: 0 });
  for (const t of st.tenants || []) rows.set(t.tenant, Object.assign(empty(t.tenant), t));
  for (const [id, n] of Object.entries(st.users || {})) {
    const r = rows.get(id) || empty(id);
    r.users = n;
    rows.set(id, r);
  }
  for (const r of st.replication || []) if (!rows.has(r.tenant)) rows.set(r.tenant, empty(r.tenant));
  return Array.from(rows.values()).sort((a, b) => String(a.tenant).localeCompare(String(b.tenant)));
}

function asRows(v) {
  if (Array.isArray(v)) return v.map((x) => (x !== null && typeof x === 'object' ? x : { value: x }));
  if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => Object.assign({ name: k }, x && typeof x === 'object' ? x : { value: x }));
  return [];
}

// recentErrors collects every non-empty error field of the status (stream and link errors).
function recentErrors(st) {
  const out = [];
  for (const r of st.replication || []) if (r.lastError) out.push('replication ' + r.tenant + ': ' + r.lastError);
  for (const p of asRows(st.peers)) {
    for (const k of ['lastError', 'error']) if (p[k]) out.push('peer ' + (p.name || p.Name || '?') + ': ' + p[k]);
  }
  for (const e of st.recentErrors || []) {
    if (typeof e === 'string') {
      out.push(e);
      continue;
    }
    const attrs = Object.entries(e.attrs || {}).map(([k, v]) => k + '=' + v).join(' ');
    out.push((e.time || '') + ' ' + (e.level || '') + ' ' + (e.message || '') + (attrs ? ' ' + attrs : ''));
  }
  return out;
}

function cell(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function table(tableEl, rows, columns) {
  if (!columns) {
    const seen = new Set();
    for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
    columns = Array.from(seen);
  }
  const head = el('tr', {}, ...columns.map((c) => el('th', {}, c)));
  const body = rows.map((r) => el('tr', { 'data-row': cell(r.tenant || r.name || r.Name || '') },
    ...columns.map((c) => el('td', { 'data-col': c }, cell(r[c])))));
  if (rows.length === 0) body.push(el('tr', {}, el('td', { class: 'muted', colSpan: Math.max(columns.length, 1) }, 'none')));
  tableEl.replaceChildren(el('thead', {}, head), el('tbody', {}, ...body));
}

function summary(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) dl.append(el('dt', {}, k), el('dd', {}, cell(v)));
}
