// What the browser tests share: Debian's Chromium and the flags it runs with, a free
// loopback port, TURN REST credentials, and a hearthd process started and stopped the way
// each test needs it.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { createSocket } from 'node:dgram';

export const CHROMIUM = '/usr/bin/chromium';
// Headless in a container: no sandbox, no GPU, nothing fetched, no QUIC; a fake camera
// and no permission prompt, so getUserMedia works without a person.
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

// A port free for TCP and UDP on 127.0.0.1, drawn below the kernel's ephemeral range
// (32768 and up): a port handed out by listen(0) may be taken again at any moment as the
// local port of an outgoing connection before hearthd binds it.
export async function freePort() {
  const free = (port) => new Promise((resolve) => {
    const server = createNetServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => {
      const socket = createSocket('udp4');
      socket.once('error', () => { socket.close(); server.close(() => resolve(false)); });
      socket.bind(port, '127.0.0.1', () => socket.close(() => server.close(() => resolve(true))));
    });
  });
  for (let attempt = 0; attempt < 200; ++attempt) {
    const port = 10000 + Math.floor(Math.random() * 22000);
    if (await free(port)) return port;
  }
  throw new Error('no free port found');
}

// A TURN REST credential for `user` of `session`, valid for an hour.
export function mint(secret, session, user) {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:${session}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

export class Hearthd {
  constructor(binary) {
    this.binary = binary;
    this.process = null;
    this.log = '';  // everything it wrote, stdout and stderr
  }

  // Resolves once hearthd says it is ready; rejects if it exits first or takes 20 s.
  start(configPath) {
    return new Promise((resolve, reject) => {
      this.process = spawn(this.binary, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      const timer = setTimeout(() => reject(new Error(`hearthd not ready:\n${this.log}`)), 20000);
      const watch = (chunk) => {
        this.log += chunk;
        if (this.log.includes('hearthd ready:')) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.process.stdout.on('data', watch);
      this.process.stderr.on('data', watch);
      this.process.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`hearthd exited with ${code}:\n${this.log}`));
      });
    });
  }

  // Stops it with SIGINT (SIGTERM would drain first), SIGKILL after 10 s; the exit
  // status, or null when it was not running. A crash, a hang at shutdown or a sanitizer's
  // report (leaks come only at exit) makes the status non-zero.
  async stop() {
    const running = this.process;
    if (!running || running.exitCode !== null) return null;
    running.removeAllListeners('exit');
    const exited = new Promise((resolve) => running.once('exit', (code, signal) => resolve(code ?? signal)));
    running.kill('SIGINT');
    const timer = setTimeout(() => running.kill('SIGKILL'), 10000);
    const status = await exited;
    clearTimeout(timer);
    return status;
  }
}

// A helper server in the foreground (Debian's haproxy with -db, squid with -N), started
// once its config is written and stopped by its PID.
export class LoopbackServer {
  constructor(command) {
    this.command = command;
    this.process = null;
    this.log = '';
  }

  // Resolves once a socket listens on 127.0.0.1:`port` (the kernel's table, polled: a
  // probe connection would be relayed on); rejects if the server exits or takes 20 s.
  start(args, port) {
    this.process = spawn(this.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process.stdout.on('data', (chunk) => { this.log += chunk; });
    this.process.stderr.on('data', (chunk) => { this.log += chunk; });
    const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    const deadline = Date.now() + 20000;
    return new Promise((resolve, reject) => {
      const poll = () => {
        const listening = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
          .some((line) => { const f = line.trim().split(/\s+/); return f[1] === wanted && f[3] === '0A'; });
        if (listening) return resolve();
        if (this.process.exitCode !== null || Date.now() > deadline) {
          return reject(new Error(`${this.command} is not listening on ${port}:\n${this.log}`));
        }
        setTimeout(poll, 50);
      };
      poll();
    });
  }

  async stop() {
    const running = this.process;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }
}
