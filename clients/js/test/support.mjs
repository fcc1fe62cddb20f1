/**
 * What the tests share: the real backend (over stdio, or `deskbridge serve` as a process on 127.0.0.1),
 * an HTTP-only proxy in front of it, temporary directories, and waiting for a condition. Everything a
 * test file starts is stopped when the file ends.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { DESKBRIDGE } from '../scripts/deskbridge.mjs';

export { DESKBRIDGE };
import { StdioClient } from '../src/stdio.js';

/** @type {Array<() => unknown>} */
const cleanups = [];
after(
  async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  },
  { timeout: 20_000 },
);

/** A fresh directory, removed when the test file ends. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'deskbridge-js-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A stdio client of the `diag` app on a fresh data directory; closed when the test file ends.
 * @param {import('../src/stdio.js').StdioOptions} [options]
 */
export function diagOverStdio(options = {}) {
  const client = new StdioClient({ command: [DESKBRIDGE], apps: ['diag'], dataDir: tempDir(), readyTimeout: 20_000, ...options });
  cleanups.push(() => client.close({ timeout: 2000 }));
  return client;
}

/** `deskbridge serve diag` as a real process; it can be killed and started again on its data dir and port. */
export class Server {
  /** @type {import('node:child_process').ChildProcess | null} */
  #process = null;
  /** @type {Record<string, any>} */
  ready = {};

  /** @param {string[]} [args] more arguments, e.g. `["--config", file]` */
  constructor(args = []) {
    this.dataDir = tempDir();
    this.args = args;
    cleanups.push(() => this.kill());
  }

  /** Start (again); a free port the first time, the same port afterwards. */
  async start() {
    const argv = ['serve', 'diag', '--port', String(this.ready.port ?? 0), '--data-dir', this.dataDir, ...this.args];
    const child = spawn(DESKBRIDGE, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#process = child;
    this.ready = await new Promise((resolve, reject) => {
      let text = '';
      const read = (/** @type {Buffer} */ chunk) => {
        text += chunk;
        const ready = text.split('\n').find((line) => line.includes('"BACKEND_READY"'));
        if (!ready) return;
        child.stderr.off('data', read).resume(); // keep draining its logs, unread
        resolve(JSON.parse(ready));
      };
      child.stderr.on('data', read);
      child.on('exit', () => reject(new Error(`deskbridge serve exited before it was ready:\n${text}`)));
    });
    return this.ready;
  }

  get url() {
    return this.ready.url;
  }

  get token() {
    return readFileSync(join(this.dataDir, 'token'), 'utf8').trim();
  }

  /** Every seq in the event log, as the server has it on disk. */
  async loggedSeqs() {
    const response = await fetch(`${this.url}/api/events?after=0&limit=10000`, { headers: { authorization: `Bearer ${this.token}` } });
    const answer = await response.json();
    return answer.events.map((/** @type {{seq: number}} */ event) => event.seq);
  }

  /** @param {NodeJS.Signals} [signal] */
  async kill(signal = 'SIGKILL') {
    const child = this.#process;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

/**
 * A proxy that forwards HTTP to the server but, until `websocket` is set, answers every WebSocket upgrade
 * with 502, as a proxy that does not speak WebSocket would. Counts what it sees.
 * @param {number} port the server's
 */
export async function httpOnlyProxy(port) {
  const target = `127.0.0.1:${port}`;
  /** @param {string[]} raw @returns {Record<string, string>} */
  const retargeted = (raw) => {
    /** @type {Record<string, string>} */
    const headers = {};
    for (let i = 0; i < raw.length; i += 2) headers[raw[i]] = raw[i].toLowerCase() === 'host' ? target : raw[i + 1];
    return headers;
  };
  const proxy = { websocket: false, requests: 0, upgrades: 0, url: '' };
  /** @type {Set<net.Socket>} */
  const tunnels = new Set();
  const server = http.createServer((request, response) => {
    proxy.requests++;
    const options = { host: '127.0.0.1', port, method: request.method, path: request.url, headers: retargeted(request.rawHeaders) };
    const upstream = http.request(options, (answer) => {
      response.writeHead(/** @type {number} */ (answer.statusCode), answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('upgrade', (request, socket, head) => {
    proxy.upgrades++;
    if (!proxy.websocket) return socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    const upstream = net.connect(port, '127.0.0.1', () => {
      const headers = Object.entries(retargeted(request.rawHeaders)).map(([name, value]) => `${name}: ${value}\r\n`);
      upstream.write(`${request.method} ${request.url} HTTP/1.1\r\n${headers.join('')}\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    for (const end of [socket, upstream]) {
      tunnels.add(end);
      end.on('error', () => {});
      end.on('close', () => (socket.destroy(), upstream.destroy()));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  proxy.url = `http://127.0.0.1:${/** @type {net.AddressInfo} */ (server.address()).port}`;
  cleanups.push(() => {
    for (const socket of tunnels) socket.destroy();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return proxy;
}

/**
 * Wait until `condition()` is true; fail after `timeout` ms.
 * @param {() => boolean} condition
 * @param {string} what said when it times out
 */
export async function until(condition, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Small delays, so that reconnection tests run fast. */
export const FAST = { backoff: { initial: 20, maximum: 200 }, upgradeBackoff: { initial: 100, maximum: 200 } };
