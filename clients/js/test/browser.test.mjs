// The browser entry point in a real browser (headless Chromium) against the real server: the browser's
// own WebSocket and fetch, the token in the WebSocket's query, CORS for a page of another origin, and
// the fallback to polling behind a proxy that cannot carry WebSockets. Skipped when no Chromium is found.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Server, httpOnlyProxy, tempDir } from './support.mjs';

const chromium = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].find((name) => {
  try {
    return name && execFileSync(name, ['--version'], { stdio: 'ignore', timeout: 10_000 }) !== undefined;
  } catch {
    return false;
  }
});

describe('in a browser page', { skip: !chromium && 'no Chromium found', timeout: 60_000 }, () => {
  const root = new URL('..', import.meta.url);
  /** @type {(result: any) => void} */
  let delivered = () => {};
  // The page's own server: the page, the package's files, and a place to post the result.
  const pages = http.createServer((request, response) => {
    if (request.method === 'POST') {
      let body = '';
      request.on('data', (chunk) => (body += chunk)).on('end', () => delivered(JSON.parse(body)));
      return response.end();
    }
    if (request.url === '/page.html') {
      return response.writeHead(200, { 'content-type': 'text/html' }).end(readFileSync(new URL('test/browser.html', root)));
    }
    if (!/^\/src\/\w+\.js$/.test(String(request.url))) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(new URL(`.${request.url}`, root)));
  });
  /** @type {Server} */
  let server;
  let origin = '';

  before(async () => {
    await new Promise((resolve) => pages.listen(0, '127.0.0.1', () => resolve(undefined)));
    origin = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (pages.address()).port}`;
    const config = join(tempDir(), 'config.json');
    writeFileSync(config, JSON.stringify({ web: { allowed_origins: [origin] } }));
    server = new Server(['--config', config]);
    await server.start();
  }, { timeout: 20_000 });
  after(
    () => {
      pages.closeAllConnections();
      return new Promise((resolve) => pages.close(resolve));
    },
    { timeout: 5000 },
  );

  /** Open the page in headless Chromium, pointed at `url`; what it reports. @param {string} url */
  async function runPage(url) {
    const page = `${origin}/page.html#${encodeURIComponent(JSON.stringify({ url, token: server.token }))}`;
    const flags = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${tempDir()}`];
    // In a process group of its own, so that its helper processes (the network service) go with it.
    const browser = spawn(/** @type {string} */ (chromium), [...flags, page], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    browser.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    try {
      return await new Promise((resolve, reject) => {
        delivered = resolve;
        browser.on('exit', (code) => reject(new Error(`Chromium exited (${code}) before the page reported:\n${stderr}`)));
      });
    } finally {
      process.kill(-(/** @type {number} */ (browser.pid)), 'SIGKILL');
    }
  }

  const expected = (/** @type {string} */ transport) => ({
    transport,
    echo: { text: 'café 🎵' },
    result: { counted: 3 },
    last: 'completed',
    error: { name: 'RemoteError', error_code: 'INVALID_PAYLOAD' },
    events: 3,
  });

  test('over a WebSocket', async () => {
    assert.deepEqual(await runPage(server.url), expected('websocket'));
  });

  test('over polling, when a proxy refuses the WebSocket upgrade', async () => {
    const proxy = await httpOnlyProxy(server.ready.port);
    assert.deepEqual(await runPage(proxy.url), expected('polling'));
    assert.ok(proxy.upgrades >= 1);
  });
});
