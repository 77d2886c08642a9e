// A browser call through the kernel fast path: hearthd with fast_path on lo (generic mode),
// in a network namespace of its own (in_own_network.sh), two peer connections over UDP
// with iceTransportPolicy 'relay'. The call must work exactly as in userspace, the fast
// path must have carried most of it, and its RTP loss and jitter figures must be there:
// the program reports every carried datagram's RTP header to the worker that owns it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, Hearthd, freePort, mint } from './hearthd_process.mjs';

const HEARTHD = process.env.HEARTHD;
const SECRET = 'browser-test-secret-0123456789abcdef';
const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';
const MESSAGES = 50;
const MIN_FRAMES = 60;  // a few seconds of video: enough RTP for loss and jitter figures

const hearthd = new Hearthd(HEARTHD);
let browser;
let page;
let pageServer;
let workDirectory;
let ports;

before(async () => {
  assert.ok(HEARTHD && existsSync(HEARTHD), 'HEARTHD must name the hearthd binary (ctest sets it)');
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is missing: run ./test.sh, which installs it');
  const playwright = await import('playwright-core');
  // The program's route lookups need forwarding on (README "Kernel fast path"); this
  // namespace is the test's own (in_own_network.sh).
  execFileSync('sysctl', ['-q', '-w', 'net.ipv4.conf.all.forwarding=1', 'net.ipv4.conf.lo.forwarding=1']);
  workDirectory = mkdtempSync(join(tmpdir(), 'hearth-fast-path-'));
  ports = { turn: await freePort(), admin: await freePort() };
  const configPath = join(workDirectory, 'hearth.conf');
  writeFileSync(configPath, `
workers = 2;
listen = { udp = [ "127.0.0.1:${ports.turn}" ]; tcp = [ ]; };
relay = { ipv4 = "127.0.0.1"; port_min = 43000; port_max = 43999; };
auth = { secrets = ( { name = "test"; value = "${SECRET}"; } ); };
session_store = { sessions = ( { id = "s1"; participants = [ "alice", "bob" ]; } ); };
peer_policy = { allow = [ "127.0.0.0/8" ]; };
admin = { listen = "127.0.0.1:${ports.admin}"; token = "${ADMIN_TOKEN}"; };
fast_path = { interfaces = [ "lo" ]; mode = "generic"; };
`);
  await hearthd.start(configPath);
  assert.match(hearthd.log, /fast path on: XDP \(generic\) on lo/);
  const html = readFileSync(new URL('./page.html', import.meta.url));
  pageServer = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(html);
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${pageServer.address().port}/`);
}, { timeout: 60000 });

after(async () => {
  await browser?.close();
  pageServer?.close();
  const status = await hearthd.stop();
  if (status !== null) assert.equal(status, 0, `hearthd exited with ${status}:\n${hearthd.log}`);
  if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
}, { timeout: 30000 });

async function admin(path) {
  const response = await fetch(`http://127.0.0.1:${ports.admin}${path}`,
    { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(response.status, 200, path);
  return response.json();
}

test('a call relays through the fast path with its counters and RTP figures', { timeout: 100000 }, async () => {
  const servers = (user) => [{ urls: [`turn:127.0.0.1:${ports.turn}?transport=udp`],
    ...mint(SECRET, 's1', user) }];
  let result;
  try {
    result = await page.evaluate(
      ([caller, callee, count, frames]) => runCall(caller, callee, count, frames),
      [servers('alice'), servers('bob'), MESSAGES, MIN_FRAMES]);
  } catch (error) {
    throw new Error(`${error.message}\n--- hearthd log ---\n${hearthd.log.slice(-4000)}`);
  }
  for (const side of ['caller', 'callee']) {
    assert.equal(result[side].localType, 'relay', `${side} local candidate is a relay`);
    assert.equal(result[side].localRelayProtocol, 'udp');
  }
  assert.deepEqual(result.echoed, Array.from({ length: MESSAGES }, (_, i) => `echo:message ${i}`));
  assert.ok(result.framesDecoded >= MIN_FRAMES, `decoded ${result.framesDecoded} frames`);

  // Both clients use this node, so each one's peer is the other's relayed address: the
  // kernel carries each client's datagrams to it (client_to_peer), and hearthd, whose
  // socket that address is, wraps them for the other client (peer_to_client).
  const metrics = await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`,
    { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  const sample = (name) => Number(metrics.split('\n').find((line) => line.startsWith(`${name} `))?.split(' ').pop());
  const up = '{direction="client_to_peer",transport="udp"}';
  const relayed = sample(`hearth_relayed_packets_total${up}`);
  const carried = sample(`hearth_fast_path_relayed_packets_total${up}`);
  // The ICE checks before the channels were handed over went through userspace (about 3 %
  // of a short call here); the media after, through the kernel.
  assert.ok(relayed > 200 && carried > 0.5 * relayed, `${carried} of ${relayed} carried by the kernel`);
  assert.equal(sample('hearth_fast_path_packets_total{outcome="media_ring_full"}'), 0,
    'every carried datagram was reported');
  // The session record, written as each allocation ended: the RTP the kernel carried is
  // in its loss figures as if userspace had relayed it.
  const record = await admin('/v1/sessions/s1/record');
  assert.equal(record.participants.length, 2, JSON.stringify(record));
  for (const participant of record.participants) {
    assert.ok(participant.to_peer.packets > 100, JSON.stringify(participant));
  }
  // The caller sends the video (page.html); the callee answers on the data channel.
  const caller = record.participants.find((participant) => participant.user === 'alice');
  assert.ok(caller.to_peer.rtp_expected > 50, JSON.stringify(caller));
  assert.equal(caller.to_peer.rtp_lost, 0, JSON.stringify(caller));
});
