// Helpers of the channel view: the socket endpoint for a tenant, and the realtime-js code of the
// subscription the form describes (values are JSON-quoted, so any input stays a string literal).
'use strict';

function wsOrigin() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host;
}

// endpointFor returns the socket endpoint that selects tenant: nodes pick the tenant from the
// first label of Host, so a tenant other than this host's is reached through its own host name
// (tenant.localhost on a loopback node, else the first label of this host replaced).
function endpointFor(tenant) {
  const here = (ui.session && ui.session.hostTenant) || '';
  if (!tenant || tenant === here) return wsOrigin() + '/socket';
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const port = location.port ? ':' + location.port : '';
  const host = location.hostname;
  const loopback = host === 'localhost' || /^[0-9.]+$/.test(host) || host.startsWith('[');
  const rest = loopback ? 'localhost' : host.split('.').slice(1).join('.');
  return scheme + tenant + '.' + (rest || host) + port + '/socket';
}

function realtimeSnippet(endpoint, topic, config) {
  const q = (v) => JSON.stringify(v);
  const opts = { config: {} };
  if (config.private) opts.config.private = true;
  if (config.broadcast.self || config.broadcast.ack) opts.config.broadcast = { self: config.broadcast.self, ack: config.broadcast.ack };
  if (config.presence.key) opts.config.presence = { key: config.presence.key };
  const lines = [
    "import { RealtimeClient } from '@supabase/realtime-js'",
    '',
    'const client = new RealtimeClient(' + q(endpoint) + ', { params: { apikey: TOKEN } })',
    'const channel = client.channel(' + q(topic) + ', ' + JSON.stringify(opts) + ')',
    'channel',
    "  .on('broadcast', { event: '*' }, (msg) => console.log('broadcast', msg))",
  ];
  if (config.presence.enabled) {
    lines.push("  .on('presence', { event: 'sync' }, () => console.log('presence', channel.presenceState()))");
    lines.push("  .on('presence', { event: 'join' }, ({ key, newPresences }) => console.log('join', key, newPresences))");
    lines.push("  .on('presence', { event: 'leave' }, ({ key, leftPresences }) => console.log('leave', key, leftPresences))");
  }
  for (const b of config.postgres_changes) {
    lines.push("  .on('postgres_changes', " + JSON.stringify(b) + ", (change) => console.log('change', change))");
  }
  lines.push('  .subscribe((status, err) => console.log(status, err ?? \'\'))');
  return lines.join('\n');
}

async function copySnippet() {
  const text = $('snippet').textContent;
  try {
    await navigator.clipboard.writeText(text);
    $('copy-result').textContent = 'copied';
  } catch (e) {
    // Clipboard API unavailable (plain http on a non-local host): select the text instead.
    const range = document.createRange();
    range.selectNodeContents($('snippet'));
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    $('copy-result').textContent = 'selected: press Ctrl+C';
  }
}
