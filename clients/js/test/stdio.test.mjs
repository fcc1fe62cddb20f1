// The stdio client against the real backend: `deskbridge stdio diag`, spawned as Electron's main process would.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { BackendStartError, ConnectionLost, OperationFailed, RemoteError, StdioClient } from '../src/stdio.js';
import { DESKBRIDGE, diagOverStdio, tempDir, until } from './support.mjs';

describe('a running backend', { timeout: 30_000 }, () => {
  const client = diagOverStdio();
  before(() => client.start(), { timeout: 20_000 });

  test('start() resolved with the BACKEND_READY line', () => {
    assert.equal(client.ready?.type, 'BACKEND_READY');
    assert.deepEqual(client.ready?.apps, ['diag']);
    assert.equal(client.status.state, 'open');
    assert.equal(client.epoch, client.ready?.epoch);
  });

  test('call() resolves with the data', async () => {
    assert.deepEqual(await client.call('ECHO', { text: 'café 🎵' }), { text: 'café 🎵' });
    assert.equal((await client.call('PING')).pong, true);
  });

  test('an error response rejects with its error_code and details', async () => {
    const invalid = await client.call('SLEEP', { seconds: -1 }).catch((error) => error);
    assert.ok(invalid instanceof RemoteError);
    assert.equal(invalid.error_code, 'INVALID_PAYLOAD');
    assert.deepEqual(invalid.details, { fields: ['$.seconds'] });

    await assert.rejects(client.call('NO_SUCH_COMMAND'), { error_code: 'UNKNOWN_COMMAND' });
    await assert.rejects(client.call('CRASH', { message: 'on purpose' }), { error_code: 'INTERNAL_ERROR' });
    assert.equal((await client.call('PING')).pong, true, 'the backend lives on');
  });

  test('1 000 concurrent calls each get their own answer', async () => {
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.call('ECHO', { i })));
    assert.deepEqual(answers.map((answer) => answer.i), Array.from({ length: 1000 }, (_, i) => i));
  });

  test('a message of several MB crosses many chunk boundaries intact', async () => {
    const text = 'é🎵x'.repeat(500_000);
    assert.equal((await client.call('ECHO', { text })).text, text);
  });

  test('an operation reports progress from its first event on, then its result', async () => {
    // With no interval, the answer and the first progress leave the backend in one write: the callback
    // must be in place before the answer is handled (the seed's client registered it after, too late).
    const progress = [];
    const operation = client.startOperation('COUNT', { to: 5, interval: 0 }, { onProgress: (payload) => progress.push(payload) });
    assert.deepEqual(await operation.result(), { counted: 5 });
    assert.equal(progress[0].current, 1);
    assert.deepEqual(progress.at(-1), { ...operation.last, status: 'completed', progress: 100 });
    assert.ok(progress.every((payload) => payload.operation_id === operation.id));
  });

  test('cancel() stops an operation: its result rejects as cancelled', async () => {
    const operation = client.startOperation('COUNT', { to: 10_000, interval: 0.01 });
    await operation.started;
    assert.equal(await operation.cancel(), true);
    const error = await operation.result().catch((error) => error);
    assert.ok(error instanceof OperationFailed);
    assert.equal(error.status, 'cancelled');
    assert.equal(error.error_code, 'OPERATION_CANCELLED');
  });

  test('an operation that fails rejects its result with the error', async () => {
    const operation = client.startOperation('COUNT', { to: 5, interval: 0, fail_at: 2 });
    await assert.rejects(operation.result(), { name: 'OperationFailed', status: 'failed', error_code: 'INTERNAL_ERROR' });
  });

  test('an operation whose command is refused rejects started and result alike', async () => {
    const operation = client.startOperation('COUNT', { to: -1 });
    await assert.rejects(operation.started, { error_code: 'INVALID_PAYLOAD' });
    await assert.rejects(operation.result(), { error_code: 'INVALID_PAYLOAD' });
  });

  test('events reach the listeners of their type, each once', async () => {
    const all = [];
    const beeps = [];
    const stopAll = client.onEvent('*', (event) => all.push(event));
    const stopBeeps = client.onEvent(['BEEP'], (event) => beeps.push(event));
    await client.call('EMIT', { count: 3, type: 'BEEP' });
    await client.call('EMIT', { count: 2, type: 'BOOP' });
    stopAll();
    stopBeeps();
    assert.deepEqual(all.map((event) => event.type), ['BEEP', 'BEEP', 'BEEP', 'BOOP', 'BOOP']);
    assert.equal(beeps.length, 3);
    assert.deepEqual(all.map((event) => event.seq), [...new Set(all.map((event) => event.seq))].sort((a, b) => a - b));
  });

  test('an AbortSignal gives up waiting; the client goes on', async () => {
    await assert.rejects(client.call('SLEEP', { seconds: 5 }, { signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' });
    assert.equal((await client.call('PING')).pong, true);
  });
});

describe('a backend that dies', { timeout: 30_000 }, () => {
  test('killed mid-call: the calls and operations in flight reject at once, new calls too', async () => {
    const client = diagOverStdio();
    await client.start();
    const sleeping = client.call('SLEEP', { seconds: 60 });
    const counting = client.startOperation('COUNT', { to: 10_000, interval: 0.01 });
    await counting.started;
    process.kill(/** @type {number} */ (client.pid), 'SIGKILL');
    const error = await sleeping.catch((error) => error);
    assert.ok(error instanceof ConnectionLost);
    assert.match(error.message, /killed by SIGKILL/);
    await assert.rejects(counting.result(), ConnectionLost);
    await assert.rejects(client.call('PING'), ConnectionLost);
    assert.equal(client.status.state, 'closed');
  });

  test('close() shuts it down gracefully: exit code 0, and later calls reject', async () => {
    const client = diagOverStdio();
    await client.start();
    assert.equal(await client.close(), 0);
    await assert.rejects(client.call('PING'), ConnectionLost);
  });
});

describe('a backend that cannot start', { timeout: 30_000 }, () => {
  test('start() rejects with what the backend wrote on stderr', async () => {
    const client = diagOverStdio({ apps: ['no_such_app'] });
    const error = await client.start().catch((error) => error);
    assert.ok(error instanceof BackendStartError);
    assert.equal(error.error_code, 'BACKEND_START_FAILED');
    assert.match(error.message, /exited with code 1 before it was ready/);
    assert.match(error.stderr, /no app named 'no_such_app'/);
  });

  test('start() rejects with the BACKEND_ERROR line when its data directory is in use', async () => {
    const dataDir = tempDir();
    const first = diagOverStdio({ dataDir });
    await first.start();
    const error = await diagOverStdio({ dataDir }).start().catch((error) => error);
    assert.ok(error instanceof BackendStartError);
    assert.match(error.message, /in use by pid/);
  });

  test('start() rejects when the program does not exist', async () => {
    const client = new StdioClient({ command: [`${DESKBRIDGE}-missing`] });
    await assert.rejects(client.start(), { name: 'BackendStartError', message: /cannot run .*ENOENT/ });
    await until(() => client.status.state === 'closed', 'the client to close');
  });

  test('start() rejects when the backend stays silent', async () => {
    const silent = new StdioClient({ command: [process.execPath, '-e', 'setTimeout(() => {}, 60_000)', '--'], readyTimeout: 300 });
    await assert.rejects(silent.start(), { name: 'BackendStartError', message: /not ready within 300 ms/ });
  });
});
