// The whole story of one therapy session, told afterwards by hearth (issue 16's "done
// means"): the platform's backend opens a session in Redis; a therapist's browser and a
// client's browser hold a video call through hearthd; the client's browser crashes
// (SIGKILL) twice and rejoins with the same credential; the backend ends the session. Then
// the session record (admin API, Redis) and the audit trail (file, Redis stream) must tell
// who was relayed, how long, how much and how well, with bytes that match hearthd's own
// counters, and the admin page lists the ended session.
//
// Two Chromium processes, each one side of the call: the test carries the offer and the
// answer between them (page.html, openSide). The client's browser is started with
// launchServer(), which hands out its process for the crash.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, Hearthd, freePort, mint } from './hearthd_process.mjs';

const HEARTHD = process.env.HEARTHD;
const SECRET = 'story-test-secret-0123456789abcdef';
const ADMIN_TOKEN = 'story-test-admin-token-0123456789';
const CRASHES = 2;

const hearthd = new Hearthd(HEARTHD);
let redis;
let redisPort;
let pageServer;
let workDirectory;
let therapistBrowser;
let clientServer;

function redisCli(...args) {
  return execFileSync('redis-cli', ['-p', String(redisPort), ...args], { encoding: 'utf8' }).trim();
}

function startRedis() {
  return new Promise((resolve, reject) => {
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no', '--dir', workDirectory], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => reject(new Error(`redis-server not ready:\n${log}`)), 20000);
    redis.stdout.on('data', (chunk) => {
      log += chunk;
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    redis.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}:\n${log}`)); });
  });
}

// Bounded wait for a condition the test cannot be told about.
async function until(condition, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- hearthd ---\n${hearthd.log.slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function admin(path, method = 'GET') {
  const response = await fetch(`http://127.0.0.1:${adminPort}${path}`,
    { method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: response.status, body: await response.text() };
}
let adminPort;

after(async () => {
  await clientServer?.close().catch(() => {});
  await therapistBrowser?.close().catch(() => {});
  pageServer?.close();
  const status = await hearthd.stop();
  if (redis && redis.exitCode === null) {
    const gone = new Promise((resolve) => redis.once('exit', resolve));
    redis.kill('SIGTERM');
    await gone;
  }
  if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
  if (status !== null) assert.equal(status, 0, `hearthd exited with ${status}:\n${hearthd.log}`);
}, { timeout: 30000 });

async function connectSides(clientPage, therapistPage) {
  const offer = await clientPage.evaluate(() => makeOffer());
  const answer = await therapistPage.evaluate((sdp) => takeOffer(sdp), offer);
  await clientPage.evaluate((sdp) => takeAnswer(sdp), answer);
  // Video both ways: each side has decoded frames relayed through hearthd.
  for (const page of [clientPage, therapistPage]) {
    await until(async () => (await page.evaluate(() => sideStats())).framesDecoded >= 10,
      'video frames on both sides', 30000);
  }
}

// Every allocation_deleted line of the audit file, summed per user and direction.
function auditTotals(path) {
  const totals = {};
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
    const event = JSON.parse(line);
    if (event.event !== 'allocation_deleted') continue;
    const user = (totals[event.user] ??= { to_peer: 0, to_client: 0, deleted: 0 });
    user.to_peer += event.to_peer.bytes;
    user.to_client += event.to_client.bytes;
    user.deleted += 1;
  }
  return totals;
}

test(`a session used by two browsers, one crashing ${CRASHES} times, tells its whole story`, { timeout: 240000 }, async () => {
  assert.ok(HEARTHD && existsSync(HEARTHD), 'HEARTHD must name the hearthd binary (ctest sets it)');
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is missing: run ./test.sh, which installs it');
  const playwright = await import('playwright-core');
  workDirectory = mkdtempSync(join(tmpdir(), 'hearth-story-'));
  [redisPort, adminPort] = [await freePort(), await freePort()];
  const port = await freePort();
  await startRedis();
  // The backend opens the session (README "Redis schema"); its cap is the default, 4.
  redisCli('HSET', 'hearth:session:s1', 'state', 'active', 'not_before', '0', 'not_after', '0');
  redisCli('SADD', 'hearth:session:s1:participants', 'therapist', 'client');
  redisCli('SADD', 'hearth:sessions', 's1');

  const auditPath = join(workDirectory, 'audit.log');
  const configPath = join(workDirectory, 'hearth.conf');
  writeFileSync(configPath, `
log_level = "info";
workers = 2;
listen = { udp = [ "127.0.0.1:${port}" ]; tcp = [ ]; };
relay = { ipv4 = "127.0.0.1"; port_min = 45000; port_max = 45999; };
auth = { secrets = ( { name = "test"; value = "${SECRET}"; } ); };
session_store = { kind = "redis"; redis = { port = ${redisPort}; node_id = "story"; }; };
peer_policy = { allow = [ "127.0.0.0/8" ]; };
audit = { path = "${auditPath}"; };
admin = { listen = "127.0.0.1:${adminPort}"; token = "${ADMIN_TOKEN}"; };
`);
  await hearthd.start(configPath);
  await until(() => hearthd.log.includes(`Redis 127.0.0.1:${redisPort}`), 'hearthd to reach Redis');

  const html = readFileSync(new URL('./page.html', import.meta.url));
  pageServer = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(html);
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  const pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;
  const servers = (user) => [{ urls: [`turn:127.0.0.1:${port}?transport=udp`], ...mint(SECRET, 's1', user) }];
  const clientServers = servers('client');  // minted once: every rejoin uses it

  therapistBrowser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const therapistPage = await therapistBrowser.newPage();
  await therapistPage.goto(pageUrl);

  for (let round = 0; round <= CRASHES; ++round) {
    clientServer = await playwright.chromium.launchServer({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const clientBrowser = await playwright.chromium.connect(clientServer.wsEndpoint());
    const clientPage = await clientBrowser.newPage();
    await clientPage.goto(pageUrl);
    // The therapist's app answers the rejoining client with a fresh connection.
    if (round > 0) await therapistPage.evaluate(() => closeSide());
    await therapistPage.evaluate((s) => openSide(s), servers('therapist'));
    await clientPage.evaluate((s) => openSide(s), clientServers);
    await connectSides(clientPage, therapistPage);
    if (round === CRASHES) break;
    const chromium = clientServer.process();
    const gone = new Promise((resolve) => chromium.once('exit', resolve));
    chromium.kill('SIGKILL');  // a crash: nothing closed, no allocation deleted
    await gone;
    await clientServer.close().catch(() => {});
  }

  // The backend ends the session: every allocation goes, the record ends.
  const revoked = await admin('/v1/sessions/s1/revoke', 'POST');
  assert.equal(revoked.status, 200, revoked.body);
  const record = await until(async () => {
    const answer = await admin('/v1/sessions/s1/record');
    const parsed = answer.status === 200 ? JSON.parse(answer.body) : null;
    return parsed?.summary.live_allocations === 0 ? parsed : null;
  }, 'the session record to end');
  console.log(`session record:\n${JSON.stringify(record, null, 1)}`);

  assert.equal(record.state, 'ended');
  assert.equal(record.end_reason, 'revoked');
  const users = Object.fromEntries(record.participants.map((p) => [p.user, p]));
  assert.deepEqual(Object.keys(users).sort(), ['client', 'therapist']);
  // One allocation per call at least: the client's crashed ones stayed until the end.
  assert.ok(users.client.allocations >= CRASHES + 1, JSON.stringify(users.client));
  assert.ok(users.therapist.allocations >= CRASHES + 1, JSON.stringify(users.therapist));
  for (const user of Object.values(users)) {
    const ended = Object.values(user.allocations_ended).reduce((a, b) => a + b, 0);
    assert.equal(ended, user.allocations, `${user.user}: every allocation ended with a reason`);
    assert.ok(user.to_peer.bytes > 0 && user.to_client.bytes > 0, `${user.user} relayed both ways`);
    assert.ok(user.lowest_quality !== null, `${user.user} has a lowest quality`);
    // A peak is one allocation's best 5 s, a mean the participant's bytes over their whole
    // span: with a crashed allocation overlapping the next, neither bounds the other.
    assert.ok(user.to_peer.peak_bps > 0 && user.to_peer.mean_bps > 0, `${user.user}: rates`);
  }
  assert.ok(users.client.allocations_ended.revoked >= 1, 'the crashed allocations went at the end');

  // The audit file says the same, allocation by allocation.
  const audit = auditTotals(auditPath);
  for (const [name, user] of Object.entries(users)) {
    assert.equal(audit[name].deleted, user.allocations, `${name}: allocations in the audit file`);
    assert.equal(audit[name].to_peer, user.to_peer.bytes, `${name}: bytes to the peer`);
    assert.equal(audit[name].to_client, user.to_client.bytes, `${name}: bytes to the client`);
  }
  // ...and hearthd's own counters (this node relayed nothing else).
  const metrics = (await admin('/metrics')).body.split('\n');
  const relayed = (direction) => metrics
    .filter((line) => line.startsWith('hearth_relayed_bytes_total{') && line.includes(`direction="${direction}"`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  assert.equal(relayed('client_to_peer'), record.summary.to_peer.bytes);
  assert.equal(relayed('peer_to_client'), record.summary.to_client.bytes);

  // In Redis for the backend: the record with its expiry, and the session's audit stream
  // with as many events as the file has for the session.
  assert.equal(Number(redisCli('HGET', 'hearth:session:s1:record', 'participant.client.to_peer_bytes')),
    users.client.to_peer.bytes);
  assert.ok(Number(redisCli('TTL', 'hearth:session:s1:record')) > 0);
  const fileEvents = readFileSync(auditPath, 'utf8').split('\n').filter(Boolean)
    .filter((line) => JSON.parse(line).session === 's1').length;
  await until(() => Number(redisCli('XLEN', 'hearth:session:s1:audit')) === fileEvents,
    'the session audit stream to hold every event of the file');

  // The admin page lists the ended session with its participants.
  const adminPage = await therapistBrowser.newPage();
  await adminPage.goto(`http://127.0.0.1:${adminPort}/#token=${ADMIN_TOKEN}`);
  await adminPage.waitForFunction(() => document.querySelectorAll('#ended-rows tr[data-session="s1"]').length === 3,
    null, { timeout: 20000 });
  const shown = await adminPage.textContent('#ended-rows');
  for (const text of ['s1', 'revoked', 'client', 'therapist']) assert.ok(shown.includes(text), shown);
});
