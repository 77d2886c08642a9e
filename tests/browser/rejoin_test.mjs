// Rejoin is never refused (issue 16): a participant whose browser crashes mid-call comes
// back with the same credential and relays again, however often it crashes. Chromium is
// killed with SIGKILL four times during a call held through hearthd (relay candidates only),
// so its allocations are left behind with nobody to delete them; each time a new Chromium
// rejoins with the same two credentials and media must flow again.
//
// hearthd runs with the default caps: 8 allocations per user and the session's default
// allocation_cap of 4, which binds first. A call holds one allocation per participant, so
// after the first crash the dead and the live fill the session's cap, and without rejoin
// the second rejoin gets 486 (no relay candidate, no call): the session's cap follows the
// rejoin rule too. rejoin_idle_seconds = 2 (not the default 15) lets the dead ones be
// replaced sooner.
//
// Chromium is started with launchServer(), the one playwright-core API that hands out the
// browser's process (BrowserServer.process()); the test connects to it over its endpoint.
// The flags are every browser test's (hearthd_process.mjs, CHROMIUM_ARGS).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, Hearthd, freePort, mint } from './hearthd_process.mjs';

const HEARTHD = process.env.HEARTHD;
const SECRET = 'rejoin-test-secret-0123456789abcdef';
const CRASHES = 4;
const REJOIN_IDLE_SECONDS = 2;

const hearthd = new Hearthd(HEARTHD);
let pageServer;
let workDirectory;
let browserServer;

async function launchChromium(playwright) {
  browserServer = await playwright.chromium.launchServer({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  return playwright.chromium.connect(browserServer.wsEndpoint());
}

// SIGKILL to the browser process, as a crash: no RTCPeerConnection is closed, no TURN
// allocation deleted. Resolves once the process is gone.
async function crash() {
  const chromium = browserServer.process();
  const gone = new Promise((resolve) => {
    if (chromium.exitCode !== null || chromium.signalCode !== null) resolve();
    else chromium.once('exit', resolve);
  });
  chromium.kill('SIGKILL');
  await gone;
  await browserServer.close().catch(() => {});  // playwright's side of the dead browser
  browserServer = undefined;
}

// A call through hearthd with the given credentials; returns its stats a second in.
async function callThrough(browser, pageUrl, url, caller, callee) {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  const servers = (credential) => [{ urls: [url], ...credential }];
  await page.evaluate(([from, to]) => holdCall(from, to), [servers(caller), servers(callee)]);
  const first = await page.evaluate(() => callStats());
  await page.waitForTimeout(1000);  // a second of media, then look again
  const later = await page.evaluate(() => callStats());
  return { first, later };
}

after(async () => {
  await browserServer?.close().catch(() => {});
  pageServer?.close();
  const status = await hearthd.stop();
  if (status !== null) assert.equal(status, 0, `hearthd exited with ${status}:\n${hearthd.log}`);
  if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
}, { timeout: 30000 });

test(`a call rejoins with the same credentials after ${CRASHES} crashes`, { timeout: 280000 }, async () => {
  assert.ok(HEARTHD && existsSync(HEARTHD), 'HEARTHD must name the hearthd binary (ctest sets it)');
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is missing: run ./test.sh, which installs it');
  let playwright;
  try {
    playwright = await import('playwright-core');
  } catch {
    assert.fail('playwright-core is missing: run ./test.sh, which installs it with npm');
  }
  workDirectory = mkdtempSync(join(tmpdir(), 'hearth-rejoin-'));
  const port = await freePort();
  const configPath = join(workDirectory, 'hearth.conf');
  writeFileSync(configPath, `
log_level = "info";
workers = 2;
listen = { udp = [ "127.0.0.1:${port}" ]; tcp = [ "127.0.0.1:${port}" ]; };
relay = { ipv4 = "127.0.0.1"; port_min = 44000; port_max = 44999; };
auth = { secrets = ( { name = "test"; value = "${SECRET}"; } ); };
session_store = { sessions = ( { id = "s1"; participants = [ "alice", "bob" ]; } ); };
peer_policy = { allow = [ "127.0.0.0/8" ]; };
limits = { rejoin_idle_seconds = ${REJOIN_IDLE_SECONDS}; };
admin = { listen = ""; };
`);
  await hearthd.start(configPath);
  const html = readFileSync(new URL('./page.html', import.meta.url));
  pageServer = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(html);
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  const pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;
  const url = `turn:127.0.0.1:${port}?transport=udp`;
  // Minted once: every rejoin uses the same credentials, as a participant's page would.
  const caller = mint(SECRET, 's1', 'alice');
  const callee = mint(SECRET, 's1', 'bob');

  for (let call = 0; call <= CRASHES; ++call) {
    const browser = await launchChromium(playwright);
    let stats;
    try {
      stats = await callThrough(browser, pageUrl, url, caller, callee);
    } catch (error) {
      throw new Error(`call ${call}: ${error.message}\n--- hearthd log ---\n${hearthd.log.slice(-6000)}`);
    }
    assert.equal(stats.later.callee, 'connected', `call ${call}: ${JSON.stringify(stats)}`);
    assert.ok(stats.later.framesDecoded > stats.first.framesDecoded,
      `call ${call}: media flows: ${JSON.stringify(stats)}`);
    if (call === CRASHES) {
      await browser.close();
      break;
    }
    await crash();
    // The dead allocations must relay nothing for the idle window before they may be
    // replaced: waiting it out is the behaviour under test, not a synchronisation.
    await new Promise((resolve) => setTimeout(resolve, (REJOIN_IDLE_SECONDS + 0.5) * 1000));
  }
  const replaced = hearthd.log.split('\n').filter((line) => line.includes('reason=replaced')).length;
  assert.ok(replaced > 0, `no allocation was replaced:\n${hearthd.log.slice(-6000)}`);
});
