// Node 18/20 (and Electron's main process on them) have no global WebSocket: the web client takes the
// optional `ws` package and still talks WebSocket, without falling back to polling.
import './without-global-websocket.mjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebClient } from '../src/index.js';
import { FAST, Server } from './support.mjs';

test('without a global WebSocket the client opens one with the ws package', { timeout: 30_000 }, async (t) => {
  assert.equal(globalThis.WebSocket, undefined);
  const warnings = [];
  process.on('warning', (warning) => warnings.push(warning));
  const server = new Server();
  await server.start();
  const client = new WebClient(server.url, { token: server.token, ...FAST });
  t.after(() => client.close(), { timeout: 5000 });
  await client.start();
  assert.equal(client.transport, 'websocket');
  assert.equal(client.status.fallback, undefined);
  const progress = [];
  const operation = client.startOperation('COUNT', { to: 5, interval: 0.01 }, { onProgress: (p) => progress.push(p) });
  assert.deepEqual(await operation.result(), { counted: 5 });
  assert.equal(progress.at(-1).status, 'completed');
  assert.deepEqual(warnings, []);
});
