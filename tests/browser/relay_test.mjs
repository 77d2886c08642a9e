// WebRTC through hearthd in Debian's headless Chromium: two peer connections in one page,
// iceTransportPolicy 'relay', one test per client transport (UDP, TCP, TLS, and TCP through
// haproxy in TCP mode sending the PROXY protocol v2).
//
// Chromium flags (checked on Chromium 156 by dropping each one in turn):
//  Needed:
//  --use-fake-device-for-media-stream: without it getUserMedia fails with NotFoundError (no camera).
//  --use-fake-ui-for-media-stream: without it getUserMedia fails with NotAllowedError (nobody
//    can click the permission prompt).
//  --ignore-certificate-errors: Chromium checks a turns: server's certificate with its own
//    verifier; the test's certificate is self-signed for "localhost", so without the flag the
//    TLS call never connects ("timed out waiting for the data channel to open"). A production
//    hearth uses a certificate from a public CA and needs no flag.
//  Added by playwright-core's launch() itself (seen in /proc/PID/cmdline): --headless,
//    --no-sandbox (needed: we run as root), --no-first-run, --disable-background-networking,
//    --disable-component-update, --disable-sync, and a fresh, empty
//    --user-data-dir=/tmp/playwright_chromiumdev_profile-XXXXXX that it deletes on close.
//  Kept for this machine, not needed by the test itself: --disable-gpu, --disable-quic, and the
//    repeats of playwright's flags above. The machine has no internet; without them Chromium
//    keeps trying to reach Google hosts.
//  Not needed: --allow-loopback-in-peer-connection. It only concerns gathering host candidates
//    on the loopback interface. With iceTransportPolicy 'relay', Chromium connects to a TURN
//    server on 127.0.0.1 and uses 127.0.0.1 relay candidates without it (all transports pass).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, Hearthd, LoopbackServer, freePort, mint } from './hearthd_process.mjs';

const HEARTHD = process.env.HEARTHD;
const SECRET = 'browser-test-secret-0123456789abcdef';
const MESSAGES = 50;
const MIN_FRAMES = 10;
const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';

let playwright;
const hearthd = new Hearthd(HEARTHD);
const haproxy = new LoopbackServer('haproxy');
let browser;
let page;
let pageServer;
let workDirectory;
let ports;

before(async () => {
  assert.ok(HEARTHD && existsSync(HEARTHD), 'HEARTHD must name the hearthd binary (ctest sets it)');
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is missing: run ./test.sh, which installs it');
  try {
    playwright = await import('playwright-core');
  } catch {
    assert.fail('playwright-core is missing: run ./test.sh, which installs it with npm');
  }
  workDirectory = mkdtempSync(join(tmpdir(), 'hearth-browser-'));
  const certificate = join(workDirectory, 'cert.pem');
  const key = join(workDirectory, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
    '-keyout', key, '-out', certificate], { stdio: 'ignore' });
  ports = { plain: await freePort(), tls: await freePort(), admin: await freePort(),
            haproxy: await freePort() };
  const configPath = join(workDirectory, 'hearth.conf');
  writeFileSync(configPath, `
log_level = "debug";
workers = 2;
listen = { udp = [ "127.0.0.1:${ports.plain}" ]; tcp = [ "127.0.0.1:${ports.plain}" ];
           tls = [ "127.0.0.1:${ports.tls}" ];
           proxy_protocol_from = [ "127.0.0.5/32" ]; };
tls = { certificate = "${certificate}"; private_key = "${key}"; };
relay = { ipv4 = "127.0.0.1"; port_min = 43000; port_max = 43999; };
auth = { secrets = ( { name = "test"; value = "${SECRET}"; } ); };
session_store = { sessions = ( { id = "s1"; participants = [ "alice", "bob" ]; allocation_cap = 64; } ); };
peer_policy = { allow = [ "127.0.0.0/8" ]; };
admin = { listen = "127.0.0.1:${ports.admin}"; token = "${ADMIN_TOKEN}"; };
`);
  await hearthd.start(configPath);
  // haproxy connects to hearthd from 127.0.0.5, the one address hearthd trusts for PROXY
  // headers; Chromium's own connections (from 127.0.0.1) are served as before.
  const haproxyConfig = join(workDirectory, 'haproxy.cfg');
  writeFileSync(haproxyConfig, `
global
    maxconn 256
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend turn
    bind 127.0.0.1:${ports.haproxy}
    default_backend node
backend node
    server node0 127.0.0.1:${ports.plain} send-proxy-v2 source 127.0.0.5
`);
  await haproxy.start(['-db', '-f', haproxyConfig], ports.haproxy);

  const html = readFileSync(new URL('./page.html', import.meta.url));
  pageServer = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(html);
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));

  browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--ignore-certificate-errors'],
  });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${pageServer.address().port}/`);
}, { timeout: 60000 });

after(async () => {
  await browser?.close();
  pageServer?.close();
  await haproxy.stop();
  const status = await hearthd.stop();
  if (status !== null) assert.equal(status, 0, `hearthd exited with ${status}:\n${hearthd.log}`);
  if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
}, { timeout: 30000 });

// One entry per client transport: the URL a browser is given and the relayProtocol its
// selected local candidate must report.
const transports = [
  { name: 'UDP', url: () => `turn:127.0.0.1:${ports.plain}?transport=udp`, protocol: 'udp' },
  { name: 'TCP', url: () => `turn:127.0.0.1:${ports.plain}?transport=tcp`, protocol: 'tcp' },
  { name: 'TLS', url: () => `turns:localhost:${ports.tls}?transport=tcp`, protocol: 'tls' },
  { name: 'TCP through haproxy', url: () => `turn:127.0.0.1:${ports.haproxy}?transport=tcp`,
    protocol: 'tcp', proxied: true },
];

// A sample of /metrics, 0 when absent.
async function metric(sample) {
  const response = await fetch(`http://127.0.0.1:${ports.admin}/metrics`,
    { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const line = (await response.text()).split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('the admin page shows a live call with its rate', { timeout: 75000 }, async () => {
  const servers = (user) => [{ urls: [transports[0].url()], ...mint(SECRET, 's1', user) }];
  await page.evaluate(([caller, callee]) => holdCall(caller, callee),
    [servers('alice'), servers('bob')]);
  const admin = await browser.newPage({ viewport: { width: 1200, height: 520 } });
  try {
    await admin.goto(`http://127.0.0.1:${ports.admin}/#token=${ADMIN_TOKEN}`);
    // Two allocations of session s1, and a rate that is not zero once a full second of
    // media has been counted (the page refreshes every 2 s).
    await admin.waitForFunction(() => {
      const rows = document.querySelectorAll('section[data-session="s1"] tbody tr');
      const rates = [...document.querySelectorAll('.rate-up, .rate-down')].map((c) => c.textContent);
      return rows.length >= 2 && rates.some((rate) => !rate.startsWith('0 bit/s'));
    }, null, { timeout: 30000 }).catch(async (error) => {
      const shown = await admin.evaluate(() => document.body.innerText);
      throw new Error(`${error.message}\n--- admin page ---\n${shown}`);
    });
    assert.equal(await admin.textContent('#status'), 'ready');
    // The counters panel is drawn from the counter tables through /v1/status.
    const counters = await admin.evaluate(() =>
      [...document.querySelectorAll('#counter-rows tr')].map((row) => row.cells[0].textContent));
    assert.ok(counters.includes('allocations_created'), counters.join(', '));
  } finally {
    await admin.close();
    await page.evaluate(() => endCall());
  }
});

for (const transport of transports) {
  // Every wait in page.html is bounded (30 s + 30 s + 20 s at most); the test's own bound
  // catches anything else that hangs.
  const title = `two peer connections relay through hearthd over ${transport.name}`;
  test(title, { timeout: 100000 }, async () => {
    // The therapist and the client of one session, each with their own credential.
    const servers = (user) => [{ urls: [transport.url()], ...mint(SECRET, 's1', user) }];
    const headersBefore = transport.proxied ? await metric('hearth_proxy_headers_accepted_total') : 0;
    let result;
    try {
      result = await page.evaluate(
        ([caller, callee, count, frames]) => runCall(caller, callee, count, frames),
        [servers('alice'), servers('bob'), MESSAGES, MIN_FRAMES]);
    } catch (error) {
      throw new Error(`${error.message}\n--- hearthd log ---\n${hearthd.log.slice(-4000)}`);
    }
    for (const side of ['caller', 'callee']) {
      assert.ok(result[side], `${side} has a selected candidate pair`);
      assert.equal(result[side].localType, 'relay', `${side} local candidate is a relay`);
      assert.equal(result[side].remoteType, 'relay', `${side} remote candidate is a relay`);
      assert.equal(result[side].localRelayProtocol, transport.protocol,
        `${side} reaches hearthd over ${transport.protocol}`);
    }
    assert.deepEqual(result.echoed, Array.from({ length: MESSAGES }, (_, i) => `echo:message ${i}`));
    assert.ok(result.framesDecoded >= MIN_FRAMES, `decoded ${result.framesDecoded} frames`);
    if (transport.proxied) {
      // Both peer connections came through haproxy, each with its PROXY header read.
      const headers = await metric('hearth_proxy_headers_accepted_total') - headersBefore;
      assert.ok(headers >= 2, `${headers} PROXY headers read\n${haproxy.log}`);
    }
  });
}
