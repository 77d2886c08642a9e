// hearth admin page: polls the admin API with the bearer token and draws the node's last
// 15 minutes as plots, the drops by reason, the node list, the live allocations grouped by
// session, and the records of the sessions ended in the last hour; revokes a session or
// drains the node once confirmed. Plain JavaScript, no build step, no external assets.
'use strict';

const REFRESH_MS = 2000;

function token() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem('hearth-token', fromHash);
    history.replaceState(null, '', location.pathname);  // keep it out of the address bar
  }
  return sessionStorage.getItem('hearth-token');
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (response.status === 401) throw new Error('unauthorized');
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return path === '/metrics' ? response.text() : response.json();
}

function rate(bitsPerSecond) {
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s`;
  if (bitsPerSecond >= 1e3) return `${(bitsPerSecond / 1e3).toFixed(1)} kbit/s`;
  return `${bitsPerSecond} bit/s`;
}

function bytes(count) {
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)} GB`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)} MB`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} kB`;
  return `${count} B`;
}

function loss(rtp) {
  return rtp.expected > 0 ? `${((100 * Math.max(rtp.lost, 0)) / rtp.expected).toFixed(1)} %` : '–';
}

function dropped(leg) {
  return Object.values(leg.dropped).reduce((sum, count) => sum + count, 0);
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function drawSessions(allocations) {
  const bySession = new Map();
  for (const allocation of allocations) {
    if (!bySession.has(allocation.session)) bySession.set(allocation.session, []);
    bySession.get(allocation.session).push(allocation);
  }
  const main = document.getElementById('sessions');
  main.replaceChildren();
  if (bySession.size === 0) {
    const empty = document.createElement('p');
    empty.textContent = 'No allocations.';
    main.append(empty);
    return;
  }
  const headings = ['user', 'client', 'transport', 'up', 'down', 'loss up', 'loss down',
    'jitter (ms)', 'dropped', 'relayed', 'quality'];
  for (const [session, members] of [...bySession].sort()) {
    const section = document.createElement('section');
    section.dataset.session = session;
    const title = document.createElement('h2');
    title.textContent = `session ${session}`;
    const revoke = document.createElement('button');
    revoke.type = 'button';
    revoke.className = 'danger';
    revoke.dataset.revoke = session;
    revoke.textContent = 'Revoke…';
    title.append(revoke);
    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    for (const heading of headings) {
      const th = document.createElement('th');
      th.textContent = heading;
      head.append(th);
    }
    const body = table.createTBody();
    for (const a of members) {
      const up = a.client_to_peer;
      const down = a.peer_to_client;
      const row = body.insertRow();
      row.dataset.allocation = a.id;
      const quality = a.quality >= 80 ? 'good' : a.quality >= 50 ? 'fair' : 'poor';
      row.append(
        cell(a.user), cell(a.client), cell(a.transport),
        cell(rate(up.bits_per_second), 'rate-up'), cell(rate(down.bits_per_second), 'rate-down'),
        cell(loss(up.rtp)), cell(loss(down.rtp)),
        cell(Math.max(up.rtp.jitter_ms, down.rtp.jitter_ms).toFixed(1)),
        cell(String(dropped(up) + dropped(down))),
        cell(bytes(up.bytes + down.bytes)),
        cell(String(a.quality), `quality ${quality}`));
    }
    section.append(title, table);
    main.append(section);
  }
}

function clockTime(unixMs) {
  return unixMs > 0 ? new Date(unixMs).toISOString().slice(11, 19) : '–';
}

function recordLoss(leg) {
  return leg.rtp_expected > 0 ? `${((100 * leg.rtp_lost) / leg.rtp_expected).toFixed(1)} %` : '–';
}

// A record's summary as a row: the session's (bold, its id first) or a participant's.
function summaryRow(body, record, summary, user) {
  const row = body.insertRow();
  row.dataset.session = record.session;
  if (!user) row.className = 'session-summary';
  const lowest = summary.lowest_quality;
  const drops = Object.values(summary.dropped).reduce((sum, count) => sum + count, 0);
  row.append(
    cell(user ? '' : record.session), cell(user || 'all'),
    cell(user ? '' : clockTime(summary.ended_unix_ms)), cell(user ? '' : record.end_reason),
    cell(`${Math.round(summary.duration_s)} s`), cell(String(summary.allocations)),
    cell(bytes(summary.to_peer.bytes)), cell(bytes(summary.to_client.bytes)),
    cell(`${rate(summary.to_peer.peak_bps)} / ${rate(summary.to_client.peak_bps)}`),
    cell(`${recordLoss(summary.to_peer)} / ${recordLoss(summary.to_client)}`),
    cell(Math.max(summary.to_peer.jitter_ms, summary.to_client.jitter_ms).toFixed(1)),
    cell(lowest ? `${lowest.score} at ${clockTime(lowest.at_unix_ms)}` : '–', 'lowest-quality'),
    cell(String(drops)));
}

function drawEnded(ended) {
  const body = document.getElementById('ended-rows');
  body.replaceChildren();
  for (const record of ended) {
    summaryRow(body, record, record.summary, null);
    for (const participant of record.participants) {
      summaryRow(body, record, participant, participant.user);
    }
  }
  if (ended.length === 0) {
    const row = body.insertRow();
    const none = cell('None.');
    none.colSpan = 13;
    row.append(none);
  }
}

// Every counter /v1/status reports, as its tables name them ("dropped.no_permission"): a
// counter added to a table shows up here with no change to the page.
function drawCounters(counters) {
  const rows = [];
  const walk = (prefix, object) => {
    for (const [name, value] of Object.entries(object)) {
      if (typeof value === 'object') walk(`${prefix}${name}.`, value);
      else if (value !== 0) rows.push([`${prefix}${name}`, value]);
    }
  };
  walk('', counters);
  document.getElementById('counter-rows').replaceChildren(...rows.map(([name, value]) => {
    const row = document.createElement('tr');
    row.append(cell(name), cell(String(value)));
    return row;
  }));
}

function drawHealth(health, metrics) {
  document.getElementById('status').textContent = health.draining ? 'draining' : health.status;
  document.getElementById('uptime').textContent = `${health.uptime_seconds} s`;
  document.getElementById('allocations').textContent = health.allocations;
  document.getElementById('connections').textContent = health.connections;
  document.getElementById('store').textContent =
    `${health.session_store} (${health.session_store_state})`;
  let relayed = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith('hearth_relayed_bytes_total{')) relayed += Number(line.split(' ').pop());
  }
  document.getElementById('relayed').textContent = bytes(relayed);
}

const PLOT = { width: 300, height: 80, spanMs: 15 * 60 * 1000 };

function svgElement(name, attributes) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

// One plot of the last 15 minutes, the newest sample at the right edge: a line per series
// ({className, value(sample) -> number or null}), broken where a value is null, on a scale
// from 0 to `top` (or the largest value). Returns how many points it drew.
function plot(id, samples, series, top, format) {
  const svg = document.getElementById(id);
  const end = samples.length ? samples[samples.length - 1].unix_ms : 0;
  const values = series.flatMap((line) => samples.map(line.value)).filter((v) => v !== null);
  const max = top ?? (Math.max(...values, 0) * 1.1 || 1);
  const x = (ms) => (PLOT.width * (1 - (end - ms) / PLOT.spanMs)).toFixed(1);
  const y = (value) => (PLOT.height - 2 - (PLOT.height - 14) * (value / max)).toFixed(1);
  const parts = [svgElement('line', { x1: 0, x2: PLOT.width, y1: y(max), y2: y(max) }),
    svgElement('line', { x1: 0, x2: PLOT.width, y1: y(max / 2), y2: y(max / 2) })];
  const label = svgElement('text', { x: 3, y: Number(y(max)) - 2 });
  label.textContent = format(max);
  const ago = svgElement('text', { x: 3, y: PLOT.height - 3 });
  ago.textContent = '−15 min';
  parts.push(label, ago);
  let points = 0;
  for (const line of series) {
    let run = [];
    const flush = () => {
      if (run.length) parts.push(svgElement('polyline', { class: line.className, points: run.join(' ') }));
      run = [];
    };
    for (const sample of samples) {
      const value = line.value(sample);
      if (value === null) { flush(); continue; }
      run.push(`${x(sample.unix_ms)},${y(value)}`);
      ++points;
    }
    flush();
  }
  svg.replaceChildren(...parts);
  svg.dataset.points = points;
  return points;
}

function drawHistory(history) {
  const samples = history.samples;
  const last = samples[samples.length - 1];
  plot('plot-rate', samples, [{ className: 'up', value: (s) => s.to_peer_bps },
    { className: 'down', value: (s) => s.to_client_bps }], null, rate);
  plot('plot-loss', samples, [{ className: 'loss', value: (s) => (s.loss === null ? null : 100 * s.loss) }],
    null, (v) => `${v.toFixed(1)} %`);
  plot('plot-quality', samples, [{ className: 'mean', value: (s) => s.mean_quality },
    { className: 'lowest', value: (s) => s.lowest_quality }], 100, (v) => String(v));
  document.getElementById('plot-rate-now').textContent =
    last ? `${rate(last.to_peer_bps)} / ${rate(last.to_client_bps)}` : 'no sample yet';
  document.getElementById('plot-loss-now').textContent =
    last && last.loss !== null ? `${(100 * last.loss).toFixed(1)} %` : '–';
  document.getElementById('plot-quality-now').textContent =
    last && last.mean_quality !== null ? `${Math.round(last.mean_quality)} / ${last.lowest_quality}` : '–';
}

// The counters that count something refused or thrown away, each reason with its count,
// the largest first; the reasons still at zero folded below them, so that the list says
// what is watched without burying what happened.
const DROP_REASON = /^(dropped|auth_failure|connections_closed|out_of_descriptors)\.|refus|fail|denied|timeout|bans|throttle/;

function reasonItem([name, count]) {
  const item = document.createElement('div');
  item.dataset.reason = name;
  const term = document.createElement('dt');
  term.textContent = name;
  const value = document.createElement('dd');
  value.textContent = String(count);
  item.append(term, value);
  return item;
}

function drawDropReasons(counters) {
  const reasons = [];
  const walk = (prefix, object) => {
    for (const [name, value] of Object.entries(object)) {
      if (typeof value === 'object') walk(`${prefix}${name}.`, value);
      else if (DROP_REASON.test(`${prefix}${name}`)) reasons.push([`${prefix}${name}`, value]);
    }
  };
  walk('', counters);
  reasons.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const counted = reasons.filter(([, count]) => count > 0);
  const zeros = reasons.filter(([, count]) => count === 0);
  const list = document.getElementById('drop-reasons');
  const folded = document.getElementById('drop-reasons-zero');
  const open = folded.open;  // kept open across refreshes once opened
  list.replaceChildren(...counted.map(reasonItem));
  if (counted.length === 0) list.append(Object.assign(document.createElement('p'), { textContent: 'None.' }));
  folded.querySelector('summary').textContent = `${zeros.length} more reasons, each 0`;
  folded.querySelector('dl').replaceChildren(...zeros.map(reasonItem));
  folded.open = open;
}

function drawNodes(nodes) {
  const body = document.getElementById('node-rows');
  body.replaceChildren(...nodes.map((node) => {
    const row = document.createElement('tr');
    row.dataset.node = node.id;
    row.append(cell(node.id), cell(node.turn), cell(node.admin),
      cell(node.draining ? 'draining' : 'taking calls'), cell(String(node.allocations)),
      cell(`${Math.max(0, Math.round(Date.now() / 1000 - node.seen))} s ago`));
    return row;
  }));
  if (nodes.length === 0) {
    const none = cell('None registered: the node list is kept in Redis (session_store.kind = "redis").');
    none.colSpan = 6;
    body.insertRow().append(none);
  }
}

// An action that changes something: asked first (Cancel does nothing), then posted. Its
// outcome stays shown until the next action: a read-only token's 403 must not flash by.
async function act(question, path) {
  if (!window.confirm(question)) return;
  const shown = document.getElementById('action');
  try {
    const response = await fetch(path, { method: 'POST', headers: { Authorization: `Bearer ${token()}` } });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 403) {
      throw new Error('refused (HTTP 403): this is the read-only token; it takes the admin token');
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${answer.error ?? ''}`);
    shown.textContent = `Done: ${path} answered ${JSON.stringify(answer)}`;
    shown.className = 'ok';
  } catch (failure) {
    shown.textContent = `${path} failed: ${failure.message}`;
    shown.className = 'failed';
  }
  shown.hidden = false;
}

document.getElementById('sessions').addEventListener('click', (event) => {
  const session = event.target.dataset?.revoke;
  if (session === undefined) return;
  act(`Revoke session ${session}? Its allocations are torn down at once and its credentials refused.`,
    `/v1/sessions/${encodeURIComponent(session)}/revoke`);
});

document.getElementById('drain').addEventListener('click', () => {
  act('Drain this node? It takes no new allocations, and stops once its calls have ended.', '/v1/drain');
});

async function refresh() {
  const error = document.getElementById('error');
  try {
    const [health, list, metrics, records, history, nodes] = await Promise.all(
      [api('/v1/status'), api('/v1/allocations'), api('/metrics'), api('/v1/records'),
        api('/v1/history'), api('/v1/nodes')]);
    drawHealth(health, metrics);
    drawHistory(history);
    drawDropReasons(health.counters);
    drawNodes(nodes.nodes);
    drawCounters(health.counters);
    drawSessions(list.allocations);
    drawEnded(records.ended);
    error.hidden = true;
  } catch (failure) {
    if (failure.message === 'unauthorized') {
      sessionStorage.removeItem('hearth-token');
      document.getElementById('login').hidden = false;
      return;
    }
    error.textContent = `Cannot reach hearthd: ${failure.message}`;
    error.hidden = false;
  }
  setTimeout(refresh, REFRESH_MS);
}

document.getElementById('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('hearth-token', document.getElementById('token').value.trim());
  document.getElementById('login').hidden = true;
  refresh();
});

if (token()) {
  refresh();
} else {
  document.getElementById('login').hidden = false;
}
