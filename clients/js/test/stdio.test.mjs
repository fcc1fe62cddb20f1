// The stdio client against the real backend: `deskbridge stdio diag`, spawned as Electron's main process would.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
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
  test('start() rejects with the BACKEND_ERROR line when the app is unknown', async () => {
    const client = diagOverStdio({ apps: ['no_such_app'] });
    const error = await client.start().catch((error) => error);
    assert.ok(error instanceof BackendStartError);
    assert.equal(error.error_code, 'BACKEND_START_FAILED');
    assert.match(error.message, /no app named 'no_such_app'/);
    assert.match(error.stderr, /"type":"BACKEND_ERROR"/);
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

/** @param {number} from @param {number} to @returns {number[]} from..to, both included */
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('resuming from a cursor', { timeout: 30_000 }, () => {
  test('after a kill -9, the events after the cursor arrive once, in order, before live ones', async () => {
    const dataDir = tempDir();
    const first = diagOverStdio({ dataDir });
    await first.start();
    assert.equal(first.recovered, true);
    assert.equal(await first.caughtUp, true); // no cursor: live from the head
    await first.call('EMIT', { count: 5 });
    const saved = first.cursor; // what the front end persisted
    assert.deepEqual(saved, { epoch: first.ready?.epoch, lastSeq: 5 });
    await first.call('EMIT', { count: 1500 }); // seen, but never saved: the front end dies before
    const running = first.startOperation('COUNT', { to: 1_000_000, interval: 0.01 });
    await running.started;
    await sleep(100);
    process.kill(/** @type {number} */ (first.pid), 'SIGKILL'); // with an operation running
    await assert.rejects(running.result(), ConnectionLost);

    const other = diagOverStdio({ dataDir }); // ends the interrupted operation, emits more
    await other.start();
    await other.call('EMIT', { count: 3, type: 'LATER' });
    const head = other.lastSeq;
    assert.equal(await other.close(), 0);

    const client = diagOverStdio({ dataDir, resume: saved });
    /** @type {Record<string, any>[]} */
    const events = [];
    /** @type {import('../src/client.js').Status[]} */
    const statuses = [];
    client.onEvent('*', (event) => events.push(event));
    client.onStatus((status) => statuses.push(status));
    assert.deepEqual(client.cursor, saved);
    const ready = await client.start();
    assert.equal(ready.last_seq, head);
    await client.call('EMIT', { count: 1, type: 'LIVE' }); // live: held until the replay is done
    assert.equal(await client.caughtUp, true);
    await until(() => events.at(-1)?.type === 'LIVE', 'the live event');
    assert.deepEqual(events.map((event) => event.seq), range(6, head + 1)); // once each, in order (2 pages)
    assert.deepEqual(events.slice(-4).map((event) => event.type), ['LATER', 'LATER', 'LATER', 'LIVE']);
    const interrupted = events.filter((event) => event.payload?.error_code === 'OPERATION_INTERRUPTED');
    assert.deepEqual(interrupted.map((event) => event.payload.operation_id), [running.id]);
    assert.equal(client.recovered, true);
    assert.deepEqual(client.cursor, { epoch: saved?.epoch, lastSeq: head + 1 });
    assert.deepEqual(
      statuses.map(({ state, recovered }) => [state, recovered]),
      [['connecting', undefined], ['open', undefined], ['open', true]],
    );
  });

  test('a cursor at the head replays nothing: recovered at once', async () => {
    const dataDir = tempDir();
    const first = diagOverStdio({ dataDir });
    await first.start();
    await first.call('EMIT', { count: 2 });
    const saved = first.cursor;
    await first.close();
    const client = diagOverStdio({ dataDir, resume: saved });
    await client.start();
    assert.equal(client.status.recovered, true);
    assert.equal(await client.caughtUp, true);
    /** @type {number[]} */
    const seqs = [];
    client.onEvent('*', (event) => seqs.push(event.seq));
    await client.call('EMIT', { count: 1 });
    await until(() => seqs.length === 1, 'the live event');
    assert.deepEqual(seqs, [3]);
  });

  test('an operation started during the replay gets each of its events once, in its handle too', async () => {
    const dataDir = tempDir();
    const first = diagOverStdio({ dataDir });
    await first.start();
    const saved = first.cursor;
    await first.call('EMIT', { count: 2500 });
    await first.close();
    const client = diagOverStdio({ dataDir, resume: saved });
    await client.start();
    /** @type {Record<string, any>[]} */
    const events = [];
    client.onEvent('*', (event) => events.push(event)); // after start(): still before any event
    /** @type {Record<string, unknown>[]} */
    const progress = [];
    // Its events are in the log before the replay's last page is read: they come replayed and live (held).
    const operation = client.startOperation('COUNT', { to: 3, interval: 0 }, { onProgress: (payload) => progress.push(payload) });
    assert.deepEqual(await operation.result(), { counted: 3 });
    assert.equal(progress.at(-1)?.status, 'completed');
    await client.caughtUp;
    const total = 2500 + progress.length;
    await until(() => events.length === total, 'every event');
    assert.deepEqual(events.map((event) => event.seq), range(1, total));
    assert.deepEqual(events.slice(2500).map((event) => event.payload), progress);
  });

  test('a cursor of another log is reported not recovered; the new log replays from its start', async () => {
    const dataDir = tempDir();
    const first = diagOverStdio({ dataDir });
    await first.start();
    await first.call('EMIT', { count: 5 });
    const saved = first.cursor;
    await first.close();
    rmSync(join(dataDir, 'events'), { recursive: true }); // the log is reset: a new epoch, seq restarts at 1
    const other = diagOverStdio({ dataDir });
    await other.start();
    await other.call('EMIT', { count: 2, type: 'NEW_LOG' });
    const epoch = other.epoch;
    await other.close();
    assert.notEqual(epoch, saved?.epoch);

    const client = diagOverStdio({ dataDir, resume: saved });
    /** @type {import('../src/client.js').Status[]} */
    const statuses = [];
    client.onStatus((status) => statuses.push(status));
    await client.start();
    /** @type {Record<string, any>[]} */
    const events = [];
    client.onEvent('*', (event) => events.push(event));
    assert.equal(await client.caughtUp, false);
    assert.equal(client.recovered, false);
    assert.deepEqual(statuses.at(-1), { state: 'open', transport: 'stdio', recovered: false, epoch });
    await client.call('EMIT', { count: 1, type: 'LIVE' });
    await until(() => events.length === 3, 'the live event');
    assert.deepEqual(events.map((event) => [event.seq, event.type]), [[1, 'NEW_LOG'], [2, 'NEW_LOG'], [3, 'LIVE']]);
    assert.deepEqual(client.cursor, { epoch, lastSeq: 3 });
  });

  test('a backend killed during the replay leaves the cursor before the gap', async () => {
    const dataDir = tempDir();
    const first = diagOverStdio({ dataDir });
    await first.start();
    const saved = first.cursor;
    await first.call('EMIT', { count: 5000 });
    await first.close();
    const client = diagOverStdio({ dataDir, resume: saved });
    /** @type {number[]} */
    const seqs = [];
    let emitted = false;
    client.onEvent('*', (event) => {
      seqs.push(event.seq);
      // At the end of a page (5 in all), once the live event is out and held behind the replay.
      if (emitted && event.seq % 1000 === 0) process.kill(/** @type {number} */ (client.pid), 'SIGKILL');
    });
    await client.start();
    await client.call('EMIT', { count: 1, type: 'LIVE' }); // seq 5001
    emitted = true;
    await assert.rejects(client.caughtUp, ConnectionLost);
    const last = /** @type {number} */ (seqs.at(-1));
    assert.ok(last % 1000 === 0 && last < 5000, `killed at the end of a page, not ${last}`);
    assert.deepEqual(seqs, range(1, last)); // the held live event never jumped the gap
    assert.deepEqual(client.cursor, { epoch: saved?.epoch, lastSeq: last });
  });

  test('a backend that cannot replay: the client goes on live and says it did not recover', async () => {
    // A stand-in for an older backend without GET_EVENTS: a script, not deskbridge.
    const oldBackend = `
      const out = (message) => process.stdout.write(JSON.stringify(message) + '\\n');
      process.stderr.write(JSON.stringify({ type: 'BACKEND_READY', epoch: 'e1', last_seq: 7 }) + '\\n');
      out({ type: 'LIVE', seq: 8 });
      let text = '';
      process.stdin.on('data', (chunk) => {
        const lines = (text += chunk).split('\\n');
        text = lines.pop();
        for (const line of lines) {
          const { id } = JSON.parse(line);
          out({ id, type: 'ERROR_RESPONSE', success: false, error_code: 'UNKNOWN_COMMAND', error: 'no such command' });
        }
      });`;
    const client = new StdioClient({ command: [process.execPath, '-e', oldBackend, '--'], resume: { epoch: 'e1', lastSeq: 3 } });
    /** @type {number[]} */
    const seqs = [];
    client.onEvent('*', (event) => seqs.push(event.seq));
    await client.start();
    assert.equal(await client.caughtUp, false);
    assert.deepEqual(client.status, { state: 'open', transport: 'stdio', recovered: false, epoch: 'e1' });
    assert.deepEqual(seqs, [8]);
    assert.deepEqual(client.cursor, { epoch: 'e1', lastSeq: 8 });
    await client.close();
  });

  test('a malformed cursor is refused at once', () => {
    assert.throws(() => new StdioClient({ resume: /** @type {any} */ ({ epoch: 'x', lastSeq: -1 }) }), TypeError);
    assert.throws(() => new StdioClient({ resume: /** @type {any} */ ({ lastSeq: 3 }) }), /resume must be/);
  });
});
