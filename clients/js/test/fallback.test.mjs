// WebSocket -> polling -> WebSocket, through a real proxy in front of the real server: the proxy forwards
// HTTP but answers WebSocket upgrades with 502 until it is told to let them through.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Refused, WebClient } from '../src/index.js';
import { FAST, Server, httpOnlyProxy, until } from './support.mjs';

describe('behind a proxy that cannot carry WebSockets', { timeout: 30_000 }, () => {
  test('the client falls back to polling, then comes back to a WebSocket when it can, missing no event', async (t) => {
    const server = new Server();
    await server.start();
    const proxy = await httpOnlyProxy(server.ready.port);
    const client = new WebClient(proxy.url, { token: server.token, ...FAST });
    t.after(() => client.close(), { timeout: 5000 });
    const transports = [];
    const fallbacks = [];
    client.onStatus((status) => {
      if (status.state !== 'open') return;
      transports.push(status.transport);
      fallbacks.push(status.fallback);
    });
    const warnings = [];
    const onWarning = (/** @type {Error & {code?: string}} */ warning) => warnings.push(warning);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const seqs = [];
    client.onEvent('*', (event) => seqs.push(event.seq));

    await client.start();
    assert.equal(client.transport, 'polling');
    assert.equal(proxy.upgrades, 1);
    const progress = [];
    const operation = client.startOperation('COUNT', { to: 20, interval: 0.01 }, { onProgress: (payload) => progress.push(payload) });
    assert.deepEqual(await operation.result(), { counted: 20 });
    assert.equal(progress.at(-1).status, 'completed');
    await client.call('EMIT', { count: 20 });
    await until(() => proxy.upgrades >= 2, 'another attempt at a WebSocket');
    assert.equal(client.transport, 'polling', 'still refused: still polling');

    // Events keep coming while the WebSocket opens, so some arrive during the switch.
    proxy.websocket = true;
    while (client.transport !== 'websocket') await client.call('EMIT', { count: 5 });
    await client.call('EMIT', { count: 20 });
    assert.deepEqual(transports, ['polling', 'websocket']);
    assert.match(fallbacks[0], /did not open/, 'the fallback is reported with its reason');
    assert.equal(fallbacks[1], undefined);
    assert.equal(warnings.length, 1, 'one warning, however many attempts failed');
    assert.equal(warnings[0].code, 'DESKBRIDGE_POLLING_FALLBACK');
    assert.match(warnings[0].message, /falling back to HTTP polling/);

    const logged = await server.loggedSeqs();
    await until(() => seqs.length >= logged.length, `all ${logged.length} events`);
    assert.deepEqual(seqs, logged, 'every event once, in order, across the switch');
  });

  test('a wrong token is refused once, not retried over WebSocket nor polling', async () => {
    const server = new Server();
    await server.start();
    const proxy = await httpOnlyProxy(server.ready.port);
    proxy.websocket = true;
    const client = new WebClient(proxy.url, { token: 'wrong', ...FAST });
    await assert.rejects(client.start(), (error) => error instanceof Refused && error.status === 4401);
    await new Promise((resolve) => setTimeout(resolve, 300)); // many backoff delays
    assert.deepEqual([proxy.upgrades, proxy.requests], [1, 0]);
  });
});
