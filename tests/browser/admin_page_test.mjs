// The admin page in Debian's headless Chromium while two calls relay through hearthd (with
// a real redis-server as its session store, so that the node list has this node): the
// plots fill from GET /v1/history, the drop reasons and the node list show, and the
// revoke and drain buttons act only once their confirmation is accepted. A read-only
// token's 403 is shown. With HEARTH_ADMIN_SCREENSHOT set, saves the page's screenshot
// there (admin/admin-page.png in the repository).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, Hearthd, LoopbackServer, freePort, mint } from './hearthd_process.mjs';

const HEARTHD = process.env.HEARTHD;
const SECRET = 'admin-page-test-secret-0123456789abcdef';
const ADMIN_TOKEN = 'admin-page-test-token-0123456789';
const READ_TOKEN = 'admin-page-test-read-only-0123456789';
const NODE_ID = 'page-test-node';
const SCREENSHOT = process.env.HEARTH_ADMIN_SCREENSHOT;

let playwright;
const hearthd = new Hearthd(HEARTHD);
const redis = new LoopbackServer('redis-server');
let browser;
let callPages = {};  // session -> the page holding its call
let admin;
let pageServer;
let workDirectory;
let ports;

function redisCli(...args) {
  return execFileSync('redis-cli', ['-p', String(ports.redis), ...args], { encoding: 'utf8' }).trim();
}

// What a backend writes for a session (README "Redis schema").
function openSession(session) {
  redisCli('HSET', `hearth:session:${session}`, 'state', 'active', 'not_before', '0', 'not_after', '0',
    'allocation_cap', '8');
  redisCli('SADD', `hearth:session:${session}:participants`, 'alice', 'bob');
  redisCli('SADD', 'hearth:sessions', session);
}

async function adminApi(path, token = ADMIN_TOKEN) {
  const response = await fetch(`http://127.0.0.1:${ports.admin}${path}`,
    { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, `${path}: HTTP ${response.status}`);
  return response.json();
}

async function allocationsOf(session) {
  return (await adminApi(`/v1/allocations?session=${session}`)).allocations;
}

// Waits for `condition` in the page (bounded), showing the page's text when it fails.
async function waitInPage(page, condition, argument, what, timeout = 30000) {
  await page.waitForFunction(condition, argument, { timeout }).catch(async (error) => {
    const shown = await page.evaluate(() => document.body.innerText);
    throw new Error(`${what}: ${error.message}\n--- admin page ---\n${shown}\n--- hearthd ---\n${hearthd.log.slice(-3000)}`);
  });
}

// Clicks `selector` and answers the confirmation it asks for; returns the question.
async function clickAndAnswer(page, selector, accept) {
  let question = null;
  page.once('dialog', (dialog) => {
    question = dialog.message();
    return accept ? dialog.accept() : dialog.dismiss();
  });
  await page.click(selector, { timeout: 10000 });
  assert.ok(question !== null, `${selector} asked for no confirmation`);
  return question;
}

before(async () => {
  assert.ok(HEARTHD && existsSync(HEARTHD), 'HEARTHD must name the hearthd binary (ctest sets it)');
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is missing: run ./test.sh, which installs it');
  try {
    playwright = await import('playwright-core');
  } catch {
    assert.fail('playwright-core is missing: run ./test.sh, which installs it with npm');
  }
  workDirectory = mkdtempSync(join(tmpdir(), 'hearth-admin-page-'));
  ports = { turn: await freePort(), admin: await freePort(), redis: await freePort() };
  await redis.start(['--port', String(ports.redis), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', workDirectory], ports.redis);
  openSession('s1');
  openSession('s2');
  const configPath = join(workDirectory, 'hearth.conf');
  writeFileSync(configPath, `
workers = 2;
listen = { udp = [ "127.0.0.1:${ports.turn}" ]; tcp = [ ]; tls = [ ]; };
relay = { ipv4 = "127.0.0.1"; port_min = 44000; port_max = 44999; };
auth = { secrets = ( { name = "test"; value = "${SECRET}"; } ); };
session_store = { kind = "redis";
                  redis = { port = ${ports.redis}; node_id = "${NODE_ID}"; metrics_interval = 1; }; };
peer_policy = { allow = [ "127.0.0.0/8" ]; };
admin = { listen = "127.0.0.1:${ports.admin}"; token = "${ADMIN_TOKEN}";
          read_only_token = "${READ_TOKEN}"; };
`);
  await hearthd.start(configPath);

  const html = readFileSync(new URL('./page.html', import.meta.url));
  pageServer = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(html);
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  // Two sessions, each a call held in a page of its own: one to revoke, one that keeps
  // the drained node up (a drained node with no allocation stops).
  for (const session of ['s1', 's2']) {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${pageServer.address().port}/`);
    const servers = (user) => [{ urls: [`turn:127.0.0.1:${ports.turn}?transport=udp`], ...mint(SECRET, session, user) }];
    await page.evaluate(([caller, callee]) => holdCall(caller, callee), [servers('alice'), servers('bob')]);
    callPages[session] = page;
  }
  admin = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await admin.goto(`http://127.0.0.1:${ports.admin}/#token=${ADMIN_TOKEN}`);
}, { timeout: 120000 });

after(async () => {
  for (const page of Object.values(callPages)) await page.evaluate(() => endCall()).catch(() => {});
  await browser?.close();
  pageServer?.close();
  const status = await hearthd.stop();
  // The drain test leaves the node draining: it stops by itself once its calls end.
  if (status !== null) assert.equal(status, 0, `hearthd exited with ${status}:\n${hearthd.log}`);
  await redis.stop();
  if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
}, { timeout: 30000 });

test('the rate plot fills from /v1/history while the calls relay', { timeout: 60000 }, async () => {
  // A sample every 5 s, the first one interval after the start: two with traffic within 30 s.
  await waitInPage(admin, () => {
    const lines = document.querySelectorAll('#plot-rate polyline.up, #plot-rate polyline.down');
    return Number(document.getElementById('plot-rate').dataset.points) >= 4 && lines.length >= 2 &&
      document.querySelector('section[data-session="s1"]') && document.querySelector('section[data-session="s2"]');
  }, null, 'rate plot with points');
  const history = await adminApi('/v1/history', READ_TOKEN);
  assert.equal(history.interval_seconds, 5);
  assert.equal(history.capacity, 180);
  assert.ok(history.samples.some((s) => s.to_peer_bps > 0 && s.to_client_bps > 0),
    JSON.stringify(history.samples));
  assert.ok(history.samples.some((s) => s.allocations >= 4 && s.mean_quality !== null));
  const qualityPoints = await admin.evaluate(() => Number(document.getElementById('plot-quality').dataset.points));
  assert.ok(qualityPoints >= 1, `quality plot has ${qualityPoints} points`);
});

test('the node list shows this node from the Redis registry', { timeout: 30000 }, async () => {
  await waitInPage(admin, (id) => {
    const row = document.querySelector(`#node-rows tr[data-node="${id}"]`);
    return row && row.cells[3].textContent === 'taking calls';
  }, NODE_ID, 'node row');
  const turn = await admin.evaluate((id) => document.querySelector(`#node-rows tr[data-node="${id}"]`).cells[1].textContent, NODE_ID);
  assert.ok(turn.includes(String(ports.turn)), turn);
});

test('drop reasons show each reason with its count', { timeout: 30000 }, async () => {
  // Each of the four allocations began with an Allocate without credentials (RFC 8489
  // 9.2: answered 401 with a nonce), counted as auth_failure.missing_integrity.
  await waitInPage(admin, () => {
    const item = document.querySelector('#drop-reasons [data-reason="auth_failure.missing_integrity"]');
    return item && Number(item.querySelector('dd').textContent) >= 4;
  }, null, 'drop reasons');
  const shown = await admin.evaluate(() => [...document.querySelectorAll('#drops [data-reason]')].map((item) =>
    ({ name: item.dataset.reason, count: Number(item.querySelector('dd').textContent),
       folded: item.closest('#drop-reasons-zero') !== null })));
  const reasons = Object.fromEntries(shown.map((r) => [r.name, r.count]));
  for (const reason of ['dropped.no_permission', 'dropped.bandwidth', 'auth_failure.bad_integrity',
    'proxy_header_refused.untrusted']) {
    assert.ok(reason in reasons, `${reason} missing from ${Object.keys(reasons).join(', ')}`);
  }
  assert.ok(!('allocations_created' in reasons), 'a counter that is not a drop is listed');
  // Those with a count first, the zeros folded below them.
  for (const reason of shown) assert.equal(reason.folded, reason.count === 0, JSON.stringify(reason));
  // The counts are /v1/status's (which only grow).
  const status = await adminApi('/v1/status');
  assert.ok(reasons['auth_failure.missing_integrity'] <= status.counters.auth_failure.missing_integrity);
});

if (SCREENSHOT) {
  // Only when asked for: a minute and a half of samples, so the plots show a line.
  test('screenshot of the admin page during the calls', { timeout: 150000 }, async () => {
    await waitInPage(admin, () => Number(document.getElementById('plot-rate').dataset.points) >= 36,
      null, '18 samples', 140000);
    await admin.screenshot({ path: SCREENSHOT, fullPage: true });
  });
}

test('a dismissed confirmation does nothing', { timeout: 30000 }, async () => {
  const question = await clickAndAnswer(admin, 'button[data-revoke="s1"]', false);
  assert.match(question, /Revoke session s1\?/);
  await clickAndAnswer(admin, '#drain', false);
  // A later refresh (every 2 s) still shows both sessions and the node ready.
  const before = await admin.evaluate(() => document.getElementById('uptime').textContent);
  await waitInPage(admin, (shown) => document.getElementById('uptime').textContent !== shown, before,
    'a refresh');
  assert.equal((await allocationsOf('s1')).length, 2);
  assert.equal((await adminApi('/v1/status')).draining, false);
  assert.equal(await admin.textContent('#status'), 'ready');
  assert.equal(await admin.isHidden('#action'), true);
});

test('the read-only token gets a clear 403 from revoke', { timeout: 30000 }, async () => {
  const reader = await browser.newPage();
  try {
    await reader.goto(`http://127.0.0.1:${ports.admin}/#token=${READ_TOKEN}`);
    await waitInPage(reader, () => document.querySelector('button[data-revoke="s1"]'), null, 'revoke button');
    await clickAndAnswer(reader, 'button[data-revoke="s1"]', true);
    await waitInPage(reader, () => !document.getElementById('action').hidden, null, 'action outcome');
    const shown = await reader.textContent('#action');
    assert.match(shown, /403/);
    assert.match(shown, /read-only/);
    assert.equal(await reader.getAttribute('#action', 'class'), 'failed');
    assert.equal((await allocationsOf('s1')).length, 2);
  } finally {
    await reader.close();
  }
});

test('revoke, once confirmed, ends the session\'s allocations', { timeout: 30000 }, async () => {
  assert.equal((await allocationsOf('s1')).length, 2);
  await clickAndAnswer(admin, 'button[data-revoke="s1"]', true);
  await waitInPage(admin, () => document.getElementById('action').className === 'ok', null, 'revoke done');
  assert.deepEqual(await allocationsOf('s1'), []);
  assert.equal((await allocationsOf('s2')).length, 2, 'the other session is untouched');
  await waitInPage(admin, () => !document.querySelector('section[data-session="s1"]'), null, 's1 gone');
});

test('drain, once confirmed, sets the node draining', { timeout: 30000 }, async () => {
  await clickAndAnswer(admin, '#drain', true);
  await waitInPage(admin, () => document.getElementById('status').textContent === 'draining', null,
    'draining status');
  assert.equal((await adminApi('/v1/status')).draining, true);
  assert.match(await admin.textContent('#action'), /"draining":true/);
});
