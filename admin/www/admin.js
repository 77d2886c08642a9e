// hearth admin page: polls the admin API with the bearer token and draws the live
// allocations grouped by session, and the records of the sessions ended in the last hour. Plain JavaScript, no build step, no external assets.
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

async function refresh() {
  const error = document.getElementById('error');
  try {
    const [health, list, metrics, records] = await Promise.all(
      [api('/v1/status'), api('/v1/allocations'), api('/metrics'), api('/v1/records')]);
    drawHealth(health, metrics);
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
