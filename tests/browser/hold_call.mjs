// A browser call held through a TURN server for a while, for tests/integration/chaos.py:
// two RTCPeerConnections in headless Chromium, relay candidates only, video one way.
// Prints "established" once video decodes, then one JSON line a second with what the
// receiving side has seen ({t, packetsReceived, packetsLost, framesDecoded, caller, callee}),
// then "done".
//   node hold_call.mjs --seconds N --url turn:HOST:PORT?transport=udp \
//       --caller USERNAME:CREDENTIAL --callee USERNAME:CREDENTIAL

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { CHROMIUM, CHROMIUM_ARGS } from './hearthd_process.mjs';

function options() {
  const found = {};
  const args = process.argv.slice(2);
  for (let i = 0; i + 1 < args.length; i += 2) found[args[i].replace(/^--/, '')] = args[i + 1];
  for (const name of ['seconds', 'url', 'caller', 'callee']) {
    if (!found[name]) throw new Error(`--${name} is required`);
  }
  return found;
}

function servers(url, pair) {
  const colon = pair.lastIndexOf(':');  // usernames hold colons; credentials are base64
  return [{ urls: [url], username: pair.slice(0, colon), credential: pair.slice(colon + 1) }];
}

const wanted = options();
const playwright = await import('playwright-core');
const html = readFileSync(new URL('./page.html', import.meta.url));
const pageServer = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'text/html' });
  response.end(html);
});
await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
const browser = await playwright.chromium.launch({
  executablePath: CHROMIUM,
  args: CHROMIUM_ARGS,
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${pageServer.address().port}/`);
  await page.evaluate(([caller, callee]) => holdCall(caller, callee),
    [servers(wanted.url, wanted.caller), servers(wanted.url, wanted.callee)]);
  console.log('established');  // chaos.py starts its faults on this line
  const started = Date.now();
  const end = started + Number(wanted.seconds) * 1000;
  while (Date.now() < end) {
    const seen = await page.evaluate(() => callStats());
    console.log(JSON.stringify({ t: (Date.now() - started) / 1000, ...seen }));
    await page.waitForTimeout(1000);  // the report's pace
  }
  await page.evaluate(() => endCall());
  console.log('done');
} finally {
  await browser.close();
  pageServer.close();
}
