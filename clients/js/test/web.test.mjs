// The web client against the real `deskbridge serve diag`: WebSocket, HTTP polling, refusals, a server
// killed with SIGKILL and restarted on its data directory and port.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConnectionLost, OperationFailed, Refused, RemoteError, WebClient } from '../src/index.js';
import { FAST, Server, until } from './support.mjs';

for (const transport of /** @type {const} */ (['websocket', 'polling'])) {
  describe(`over ${transport}`, { timeout: 30_000 }, () => {
    const server = new Server();
    /** @type {WebClient} */
    let client;
    before(async () => {
      await server.start();
      client = new WebClient(server.url, { token: server.token, transport, ...FAST });
      await client.start();
    }, { timeout: 20_000 });
    after(() => client.close(), { timeout: 5000 });

    test('start() resolves on an open connection', () => {
      assert.equal(client.transport, transport);
      assert.deepEqual(client.status, { state: 'open', transport, recovered: true, epoch: server.ready.epoch });
    });

    test('calls resolve with their data; errors reject with error_code and details', async () => {
      assert.deepEqual(await client.call('ECHO', { text: 'café 🎵' }), { text: 'café 🎵' });
      const error = await client.call('SLEEP', { seconds: -1 }).catch((error) => error);
      assert.ok(error instanceof RemoteError);
      assert.equal(error.error_code, 'INVALID_PAYLOAD');
      assert.deepEqual(error.details, { fields: ['$.seconds'] });
      await assert.rejects(client.call('NO_SUCH_COMMAND'), { error_code: 'UNKNOWN_COMMAND' });
    });

    test('1 000 concurrent calls each get their own answer', async () => {
      const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.call('ECHO', { i })));
      assert.deepEqual(answers.map((answer) => answer.i), Array.from({ length: 1000 }, (_, i) => i));
    });

    test('an operation reports its progress, then its result; cancel() stops another', async () => {
      // Over polling, progress travels on the poll and the answer on the POST: progress that overtakes
      // the answer is held for the operation, not lost.
      const progress = [];
      const operation = client.startOperation('COUNT', { to: 30, interval: 0.01 }, { onProgress: (payload) => progress.push(payload) });
      assert.deepEqual(await operation.result(), { counted: 30 });
      assert.ok(progress.length >= 2);
      assert.equal(progress.at(-1).status, 'completed');
      assert.deepEqual(progress.map((payload) => payload.current), progress.map((payload) => payload.current).sort((a, b) => a - b));

      const endless = client.startOperation('COUNT', { to: 100_000, interval: 0.01 });
      assert.equal(await endless.cancel(), true);
      await assert.rejects(endless.result(), (error) => error instanceof OperationFailed && error.status === 'cancelled');
    });

    test('an aborted signal cancels the operation on the backend, whether or not it was answered yet', async () => {
      const early = new AbortController();
      const unanswered = client.startOperation('COUNT', { to: 100_000, interval: 0.01 }, { signal: early.signal });
      early.abort(); // the command is on its way: the backend starts it, the client cancels it once answered
      await assert.rejects(unanswered.result(), { name: 'AbortError' });
      const late = new AbortController();
      const ticks = [];
      const answered = client.startOperation('COUNT', { to: 100_000, interval: 0.01 }, {
        signal: late.signal,
        onProgress: (payload) => ticks.push(payload),
      });
      const { operation_id } = await answered.started;
      await until(() => ticks.length > 0, 'some progress');
      late.abort(new Error('the window closed'));
      await assert.rejects(answered.result(), { message: 'the window closed' });
      assert.equal(answered.ended, true);

      let running = [];
      const deadline = Date.now() + 10_000;
      do {
        running = await client.call('LIST_OPERATIONS', { active_only: true });
      } while (running.length > 0 && Date.now() < deadline);
      assert.deepEqual(running, [], 'both operations stopped on the backend');
      assert.equal((await client.call('GET_OPERATION', { operation_id })).status, 'cancelled');
      const seen = ticks.length;
      await client.call('SLEEP', { seconds: 0.05 });
      assert.equal(ticks.length, seen, 'no progress reaches a handle after its abort');
    });

    test('error messages are the backend\'s words; the code is in error_code', async () => {
      const error = await client.call('COUNT', { intervall: 5 }).catch((error) => error);
      assert.equal(error.error_code, 'INVALID_PAYLOAD');
      assert.equal(error.message, 'invalid payload: unknown field `intervall` at `$`; did you mean `interval`?');
      assert.equal(error.details.did_you_mean, 'interval');
    });

    test('events reach the listeners of their type, each once, in order', async () => {
      const beeps = [];
      const stop = client.onEvent('BEEP', (event) => beeps.push(event.seq));
      await client.call('EMIT', { count: 50, type: 'BEEP' });
      await client.call('EMIT', { count: 5, type: 'BOOP' });
      await until(() => beeps.length === 50, '50 BEEP events');
      stop();
      assert.deepEqual(beeps, Array.from({ length: 50 }, (_, i) => beeps[0] + i));
    });
  });
}

describe('a refused client', { timeout: 30_000 }, () => {
  const server = new Server();
  before(() => server.start(), { timeout: 20_000 });

  for (const [transport, status] of /** @type {const} */ ([['websocket', 4401], ['polling', 401], ['auto', 4401]])) {
    test(`${transport}: a wrong token rejects start() with Refused, for good`, async () => {
      const client = new WebClient(server.url, { token: 'wrong', transport, ...FAST });
      const error = await client.start().catch((error) => error);
      assert.ok(error instanceof Refused);
      assert.equal(error.status, status);
      assert.equal(error.error_code, 'UNAUTHORIZED');
      assert.equal(client.status.state, 'closed');
      await assert.rejects(client.call('PING'), Refused);
    });
  }
});

describe('a server killed with SIGKILL', { timeout: 30_000 }, () => {
  test('the calls in flight reject; the client reconnects when it is back, missing no event; its operations end', async (t) => {
    const server = new Server();
    await server.start();
    const client = new WebClient(server.url, { token: server.token, transport: 'websocket', ...FAST });
    const seqs = [];
    client.onEvent('*', (event) => seqs.push(event.seq));
    await client.start();
    t.after(() => client.close(), { timeout: 5000 });

    // Events on disk before the kill, some of them possibly not yet sent to the client.
    const sleeping = client.call('SLEEP', { seconds: 60 }).catch((error) => error);
    const counting = client.startOperation('COUNT', { to: 100_000, interval: 0.01 });
    await counting.started;
    await client.call('EMIT', { count: 300 });
    const bursts = Array.from({ length: 5 }, () => client.call('EMIT', { count: 100 }).catch(() => 'lost'));
    await server.kill('SIGKILL');

    assert.ok((await sleeping) instanceof ConnectionLost);
    await Promise.all(bursts);
    await until(() => client.status.state === 'reconnecting', 'the client to try again');
    await assert.rejects(client.call('PING'), ConnectionLost, 'no call goes out while disconnected');

    await server.start(); // same data directory, same port
    await until(() => client.status.state === 'open', 'the reconnection');
    assert.equal(client.recovered, true);
    // The restarted backend ends the operation the kill interrupted: its terminal event arrives with the rest.
    await assert.rejects(
      counting.result(),
      (error) => error instanceof OperationFailed && error.status === 'failed' && error.error_code === 'OPERATION_INTERRUPTED',
    );
    await client.call('EMIT', { count: 100 });

    const logged = await server.loggedSeqs();
    await until(() => seqs.length >= logged.length, `all ${logged.length} events`);
    assert.deepEqual(seqs, logged, 'every event the log holds, once each, in order');
  });
});

describe('a cursor saved earlier', { timeout: 30_000 }, () => {
  test('a new client resumes from it and receives what it missed', async () => {
    const server = new Server();
    await server.start();
    const first = new WebClient(server.url, { token: server.token });
    await first.start();
    await first.call('EMIT', { count: 3 });
    await until(() => first.lastSeq === 3, 'the first events');
    const { lastSeq, epoch } = first;
    await first.close();

    const other = new WebClient(server.url, { token: server.token, transport: 'polling' });
    await other.start();
    await other.call('EMIT', { count: 4 });
    await other.close();

    const missed = [];
    const again = new WebClient(server.url, { token: server.token, after: lastSeq, epoch: epoch ?? undefined });
    again.onEvent('*', (event) => missed.push(event.seq));
    await again.start();
    await until(() => missed.length === 4, 'the 4 missed events');
    assert.deepEqual(missed, [4, 5, 6, 7]);
    await again.close();
  });

  for (const transport of /** @type {const} */ (['websocket', 'polling'])) {
    test(`one ahead of the log is not recovered, and every event the log holds comes (${transport})`, async () => {
      const server = new Server();
      await server.start();
      const first = new WebClient(server.url, { token: server.token });
      await first.start();
      await first.call('EMIT', { count: 3 });
      const epoch = first.epoch ?? undefined;
      await first.close();

      const seqs = [];
      const ahead = new WebClient(server.url, { token: server.token, transport, after: 1000, epoch, ...FAST });
      ahead.onEvent('*', (event) => seqs.push(event.seq));
      await ahead.start();
      await until(() => seqs.length === 3, 'the 3 events of the log');
      assert.equal(ahead.recovered, false);
      assert.deepEqual(seqs, [1, 2, 3]);
      await ahead.call('EMIT', { count: 1 });
      await until(() => seqs.length === 4, 'the live event');
      assert.equal(ahead.lastSeq, 4);
      await ahead.close();
    });
  }
});
