// A clinic network that lets nothing out but an explicit HTTP proxy, and that proxy only to
// port 443: Debian's squid on loopback allows CONNECT to hearthd's multiplexing port and
// nothing else, and Chromium may use no UDP at all. The platform's web app and the relay
// share that one port: the page itself is served by a small HTTPS server that hearthd
// passes the connection to (mux.upstreams, by the ClientHello's name), and the call relays
// through hearthd over turns: and turn:?transport=tcp on the same port, through squid.
//
// Chromium flags beyond relay_test.mjs's:
//  --proxy-server=http://127.0.0.1:PORT: every connection through squid.
//  --proxy-bypass-list=<-loopback>: Chromium never proxies loopback by default; this takes
//    the implicit bypass away, so 127.0.0.1 and localhost go through squid too.
//  --force-webrtc-ip-handling-policy=disable_non_proxied_udp: WebRTC uses no UDP, only TCP
//    through the proxy, as under a policy that allows only the proxy.
//  --ignore-certificate-errors: the web app's and hearthd's certificates are self-signed.
// squid resolves the names (app.test, localhost) from a hosts file of its own.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:https';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, Hearthd, LoopbackServer, freePort, mint } from './hearthd_process.mjs';

const HEARTHD = process.env.HEARTHD;
const SECRET = 'browser-test-secret-0123456789abcdef';
const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';
const MESSAGES = 50;
const MIN_FRAMES = 10;
const APP = 'app.test';

let playwright;
const hearthd = new Hearthd(HEARTHD);
const squid = new LoopbackServer('squid');
let browser;
let page;
let webApp;
let workDirectory;
let ports;

function certificate(name) {
  const cert = join(workDirectory, `${name}.pem`);
  const key = join(workDirectory, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

before(async () => {
  assert.ok(HEARTHD && existsSync(HEARTHD), 'HEARTHD must name the hearthd binary (ctest sets it)');
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is missing: run ./test.sh, which installs it');
  try {
    playwright = await import('playwright-core');
  } catch {
    assert.fail('playwright-core is missing: run ./test.sh, which installs it with npm');
  }
  workDirectory = mkdtempSync(join(tmpdir(), 'hearth-proxy-only-'));
  chmodSync(workDirectory, 0o777);  // squid, started as root, runs as user proxy
  // ctest runs this in a network namespace of its own (unshare --net), where port 443 is
  // free: the mux then has the port such networks allow, and squid allows only it.
  ports = { udp: await freePort(), mux: Number(process.env.MUX_PORT) || await freePort(),
            admin: await freePort(), squid: await freePort() };

  // The platform's web app: the test page over HTTPS, and one small answer.
  const app = certificate(APP);
  const html = readFileSync(new URL('./page.html', import.meta.url));
  webApp = createServer({ cert: readFileSync(app.cert), key: readFileSync(app.key) }, (request, response) => {
    if (request.url === '/answer') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('the web app answers');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(html);
  });
  await new Promise((resolve) => webApp.listen(0, '127.0.0.1', resolve));

  const relay = certificate('localhost');
  const configPath = join(workDirectory, 'hearth.conf');
  writeFileSync(configPath, `
log_level = "debug";
workers = 2;
listen = { udp = [ "127.0.0.1:${ports.udp}" ]; tcp = [ ]; mux = [ "127.0.0.1:${ports.mux}" ]; };
mux = { upstreams = ( { sni = "${APP}"; address = "127.0.0.1:${webApp.address().port}"; } ); };
tls = { certificate = "${relay.cert}"; private_key = "${relay.key}"; };
relay = { ipv4 = "127.0.0.1"; port_min = 47000; port_max = 47999; };
auth = { secrets = ( { name = "test"; value = "${SECRET}"; } ); };
session_store = { sessions = ( { id = "s1"; participants = [ "alice", "bob" ]; allocation_cap = 64; } ); };
peer_policy = { allow = [ "127.0.0.0/8" ]; };
admin = { listen = "127.0.0.1:${ports.admin}"; token = "${ADMIN_TOKEN}"; };
`);
  await hearthd.start(configPath);

  writeFileSync(join(workDirectory, 'hosts'), `127.0.0.1 ${APP} localhost\n`);
  const squidConfig = join(workDirectory, 'squid.conf');
  writeFileSync(squidConfig, `
http_port 127.0.0.1:${ports.squid}
acl CONNECT method CONNECT
acl relay_port port ${ports.mux}
http_access allow CONNECT relay_port
http_access deny all
hosts_file ${join(workDirectory, 'hosts')}
dns_nameservers 127.0.0.1
cache deny all
cache_mem 8 MB
pid_filename ${join(workDirectory, 'squid.pid')}
access_log stdio:${join(workDirectory, 'access.log')}
cache_log ${join(workDirectory, 'cache.log')}
coredump_dir ${workDirectory}
visible_hostname hearth-test
shutdown_lifetime 1 seconds
`);
  await squid.start(['-N', '-f', squidConfig], ports.squid);

  browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--ignore-certificate-errors',
      `--proxy-server=http://127.0.0.1:${ports.squid}`, '--proxy-bypass-list=<-loopback>',
      '--force-webrtc-ip-handling-policy=disable_non_proxied_udp'],
  });
  page = await browser.newPage();
  await page.goto(`https://${APP}:${ports.mux}/`);
}, { timeout: 60000 });

after(async () => {
  await browser?.close();
  await squid.stop();
  webApp?.close();
  const status = await hearthd.stop();
  if (status !== null) assert.equal(status, 0, `hearthd exited with ${status}:\n${hearthd.log}`);
  if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
}, { timeout: 30000 });

async function admin(path) {
  const response = await fetch(`http://127.0.0.1:${ports.admin}${path}`,
    { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return response.text();
}

// A sample of /metrics, 0 when absent.
async function metric(sample) {
  const line = (await admin('/metrics')).split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

function squidLog() {
  const path = join(workDirectory, 'access.log');
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

test('the web app on the relay\'s port answers through the proxy', async () => {
  // The page itself came this way; one more request, answered by the web app.
  const answer = await page.evaluate(async () => (await fetch('/answer')).text());
  assert.equal(answer, 'the web app answers');
  assert.ok(await metric('hearth_mux_connections_total{kind="upstream"}') >= 1);
});

const transports = [
  { name: 'turns:', url: () => `turns:localhost:${ports.mux}?transport=tcp`, protocol: 'tls',
    kind: 'turn_tls' },
  { name: 'turn:?transport=tcp', url: () => `turn:127.0.0.1:${ports.mux}?transport=tcp`,
    protocol: 'tcp', kind: 'turn_tcp' },
];

for (const transport of transports) {
  test(`a call relays through squid and hearthd's one port over ${transport.name}`, { timeout: 100000 },
    async () => {
      const servers = (user) => [{ urls: [transport.url()], ...mint(SECRET, 's1', user) }];
      const sample = `hearth_mux_connections_total{kind="${transport.kind}"}`;
      const before = await metric(sample);
      let result;
      try {
        result = await page.evaluate(
          ([caller, callee, count, frames]) => runCall(caller, callee, count, frames),
          [servers('alice'), servers('bob'), MESSAGES, MIN_FRAMES]);
      } catch (error) {
        throw new Error(`${error.message}\n--- squid ---\n${squidLog()}\n--- hearthd log ---\n` +
          hearthd.log.slice(-4000));
      }
      for (const side of ['caller', 'callee']) {
        assert.equal(result[side].localType, 'relay', `${side} local candidate is a relay`);
        assert.equal(result[side].remoteType, 'relay', `${side} remote candidate is a relay`);
        assert.equal(result[side].localRelayProtocol, transport.protocol,
          `${side} reaches hearthd over ${transport.protocol}`);
      }
      assert.deepEqual(result.echoed, Array.from({ length: MESSAGES }, (_, i) => `echo:message ${i}`));
      assert.ok(result.framesDecoded >= MIN_FRAMES, `decoded ${result.framesDecoded} frames`);
      // Both peer connections reached hearthd on the one port, each told apart as this
      // transport, and squid carried them.
      assert.ok(await metric(sample) - before >= 2, `${sample} did not grow by 2`);
      const host = transport.protocol === 'tls' ? 'localhost' : '127\\.0\\.0\\.1';
      assert.match(squidLog(), new RegExp(`CONNECT ${host}:${ports.mux}`));
    });
}

test('squid carried the web app\'s connections to the relay\'s port', async () => {
  // squid logs a tunnel when it closes: the page's, kept alive so far, close with its
  // browser context.
  await page.context().close();
  const wanted = new RegExp(`CONNECT ${APP.replace('.', '\\.')}:${ports.mux} `);
  const deadline = Date.now() + 15000;
  while (!wanted.test(squidLog()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));  // polling a log file
  }
  assert.match(squidLog(), wanted);
});
