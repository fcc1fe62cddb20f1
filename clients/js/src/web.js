/**
 * The web door from a browser page, Node or Electron (docs/web.md): a WebSocket when it opens, HTTP
 * polling when it cannot (seed 004's fallback), and back to a WebSocket as soon as one opens again.
 *
 * One session lives across every connection. When a connection drops, the calls in flight fail with
 * `ConnectionLost`; operation handles and event listeners carry on. The client reconnects with backoff
 * and resumes the event stream from the session's `epoch` and `lastSeq`; the session drops what it has
 * already seen by `seq`, so listeners get every event once, with no gap. A refusal (wrong token,
 * Origin or Host) is final: no retry.
 */
import { Backoff, sleep } from './backoff.js';
import { deferred } from './callbacks.js';
import { Client } from './client.js';
import { ConnectionLost, Refused } from './errors.js';
import { HttpApi } from './http.js';
import { isRefusal, openWebSocket } from './websocket.js';

/**
 * @typedef {object} WebOptions
 * @property {string} [token] the server's token (`<data-dir>/token`); sent as `?token=` on the WebSocket
 *   (browsers cannot set its headers) and as `Authorization: Bearer` on HTTP
 * @property {string} [clientId] names this client to the server: its acknowledged cursor holds back retention
 * @property {'auto' | 'websocket' | 'polling'} [transport] `auto` (default): WebSocket, else polling
 * @property {number} [after] resume a cursor saved earlier (with `epoch`) instead of starting from now
 * @property {string} [epoch]
 * @property {import('./websocket.js').WebSocketClass} [WebSocket] an implementation for runtimes without a
 *   global one; by default the global one, else (Node before 22, e.g. an Electron main process) the `ws`
 *   package, an optional dependency
 * @property {typeof fetch} [fetch]
 * @property {{initial?: number, maximum?: number, factor?: number}} [backoff] reconnection delays, ms
 *   (default 50 doubling to 5 000)
 * @property {{initial?: number, maximum?: number, factor?: number}} [upgradeBackoff] while polling, the
 *   delays between attempts to open a WebSocket again (default 1 000 doubling to 30 000)
 * @property {number} [wait] long-poll for up to this many seconds (default 25)
 * @property {number} [openTimeout] ms a WebSocket may take to open and subscribe (default 10 000)
 */

export class WebClient extends Client {
  /** @type {boolean | null} whether the last resume proved that no event was missed (false: reload state) */
  recovered = null;
  #http;
  #wsUrl;
  #options;
  #backoff;
  #upgradeBackoff;
  #stop = new AbortController();
  /** @type {import('./callbacks.js').Deferred<void>} */
  #started = deferred();
  /** @type {Promise<void> | null} */
  #running = null;
  /** @type {import('./websocket.js').Connection | null} */
  #socket = null;
  #polling = false;
  #opens = 0;
  /** The newest seq on disk when the event stream last (re)started. */
  #head = 0;
  #closing = false;
  /** @type {string | null} why the last WebSocket attempt failed, while polling instead */
  #fallback = null;
  #warned = false;
  /** @type {Promise<import('./websocket.js').WebSocketClass | null> | null} */
  #WebSocket = null;

  /**
   * @param {string} url any URL of the server: `http://127.0.0.1:8001`, `ws://127.0.0.1:8001/ws`, ...
   * @param {WebOptions} [options]
   */
  constructor(url, options = {}) {
    super();
    const { token, clientId, after, epoch } = options;
    this.#options = { transport: 'auto', wait: 25, openTimeout: 10_000, ...options };
    const base = new URL(url);
    const secure = base.protocol === 'https:' || base.protocol === 'wss:';
    const query = new URLSearchParams({ ...(token && { token }), ...(clientId && { client_id: clientId }) }).toString();
    this.#http = new HttpApi(`${secure ? 'https' : 'http'}://${base.host}`, { token, clientId, fetch: options.fetch });
    this.#wsUrl = `${secure ? 'wss' : 'ws'}://${base.host}/ws${query && `?${query}`}`;
    this.#backoff = new Backoff(options.backoff);
    this.#upgradeBackoff = new Backoff({ initial: 1000, maximum: 30_000, ...options.upgradeBackoff });
    if (after !== undefined) {
      this.session.lastSeq = after;
      this.session.epoch = epoch ?? null;
    }
  }

  /** `"websocket"` or `"polling"` while connected, else null. */
  get transport() {
    return this.status.state === 'open' ? this.status.transport : null;
  }

  /**
   * Connect; resolve once the first connection is open (a WebSocket subscribed, or a first poll answered).
   * Rejects with `Refused` when the server refuses this client, with `ConnectionLost` when it cannot be
   * reached; after that first success, the client reconnects by itself until `close()`.
   * @returns {Promise<void>}
   */
  start() {
    this.#running ??= this.#run();
    return this.#started.promise;
  }

  /** Disconnect for good: calls and operations still waiting reject with `ConnectionLost`. */
  async close() {
    this.#closing = true;
    this.#stop.abort();
    this.#socket?.close();
    await (this.#running ?? this.#shutdown(new ConnectionLost('the client is closed')));
  }

  /** @param {string} text @param {string} id */
  _send(text, id) {
    if (this.#socket) return this.#socket.send(text);
    if (this.#polling) return void this.#post(text, id);
    throw new ConnectionLost('not connected (reconnecting)');
  }

  async #run() {
    let delays = this.#backoff.delays();
    while (!this.#stop.signal.aborted) {
      const opens = this.#opens;
      try {
        await this.#connect();
      } catch (error) {
        if (error instanceof Refused || this.#opens === 0) return this.#shutdown(error);
      }
      if (this.#stop.signal.aborted) break;
      if (this.#opens > opens) delays = this.#backoff.delays();
      this._setStatus({ state: 'reconnecting', transport: null });
      await sleep(delays.next().value, this.#stop.signal);
    }
    this.#shutdown(new ConnectionLost('the client is closed'));
  }

  /** One connection, served until it ends: a WebSocket, else polling (which may upgrade to a WebSocket). */
  async #connect() {
    const { transport } = this.#options;
    if (this.status.state === 'idle') this._setStatus({ state: 'connecting', transport: null });
    if (transport !== 'polling') {
      try {
        return await this.#serveWebSocket(await this.#openWebSocket(this.#stop.signal));
      } catch (error) {
        if (error instanceof Refused || transport === 'websocket') throw error;
        this.#fallback = error instanceof Error ? error.message : String(error);
      }
    }
    const upgraded = await this.#servePolling();
    if (upgraded) await this.#serveWebSocket(upgraded);
  }

  /** @param {AbortSignal} signal */
  async #openWebSocket(signal) {
    const { openTimeout } = this.#options;
    this.#WebSocket ??= this.#options.WebSocket ? Promise.resolve(this.#options.WebSocket) : findWebSocket();
    const WebSocket = await this.#WebSocket;
    if (!WebSocket) throw new ConnectionLost(NO_WEBSOCKET);
    const { lastSeq: after, epoch } = this.session;
    const cursor = epoch === null && after === 0 ? {} : { after, ...(epoch && { epoch }) };
    return openWebSocket(this.#wsUrl, {
      WebSocket,
      cursor,
      timeout: openTimeout,
      signal,
      onNotice: (notice) => {
        this.#head = notice.last_seq;
        this.#resumed(notice.epoch, notice.after, notice.recovered);
      },
      onMessage: (message) => this.session.feed(message),
    });
  }

  /** @param {import('./websocket.js').Connection} socket */
  async #serveWebSocket(socket) {
    this.#socket = socket;
    this.#opened('websocket');
    if (this.#stop.signal.aborted) socket.close();
    const code = await socket.closed;
    this.#socket = null;
    this.session.failPending(new ConnectionLost(`the WebSocket closed (code ${code})`));
    if (isRefusal(code)) throw new Refused(`the server closed this client with code ${code}`, code);
  }

  /**
   * Poll until polling fails, or until a WebSocket opens again (`auto`): then return it, subscribed.
   * Throws when the first poll fails.
   * @returns {Promise<import('./websocket.js').Connection | null>}
   */
  async #servePolling() {
    const stop = new AbortController();
    const end = () => stop.abort();
    this.#stop.signal.addEventListener('abort', end);
    /** @type {import('./websocket.js').Connection | null} */
    let upgraded = null;
    let probing = null;
    try {
      await this.#poll(0, stop.signal);
      this.#polling = true;
      this.#opened('polling');
      if (this.#options.transport === 'auto') {
        probing = this.#probe(stop.signal).then((socket) => {
          upgraded = socket;
          end();
        });
      }
      for (;;) await this.#poll(this.#options.wait, stop.signal);
    } catch (error) {
      // A refusal is final, and a first poll that fails fails this attempt; a later failure (or the
      // end of polling, aborted by an upgrade or close()) ends polling, to be tried again.
      if (error instanceof Refused || (!this.#polling && !stop.signal.aborted)) throw error;
    } finally {
      this.#polling = false;
      end();
      this.#stop.signal.removeEventListener('abort', end);
      await probing;
    }
    return upgraded;
  }

  /**
   * One poll from the session's cursor, fed to the session. Without a cursor yet, only learn where the
   * stream is now (its head) and start from there.
   * @param {number} wait
   * @param {AbortSignal} signal
   */
  async #poll(wait, signal) {
    const { lastSeq: after, epoch } = this.session;
    if (epoch === null && after === 0) {
      const answer = await this.#http.events({ after, epoch, wait: 0, limit: 1, signal });
      this.#head = answer.head;
      return this.#resumed(answer.epoch, answer.head, true);
    }
    const answer = await this.#http.events({ after, epoch, wait, signal });
    this.#head = answer.head;
    if (answer.epoch !== epoch || !answer.recovered) this.#resumed(answer.epoch, answer.after, answer.recovered);
    for (const event of answer.events) this.session.feed(event);
  }

  /**
   * While polling, try to open a WebSocket now and then; resolve with the first that opens (or null).
   * @param {AbortSignal} signal
   */
  async #probe(signal) {
    const delays = this.#upgradeBackoff.delays();
    for (;;) {
      await sleep(delays.next().value, signal);
      if (signal.aborted) return null;
      try {
        return await this.#openWebSocket(signal);
      } catch {
        // still unavailable: keep polling
      }
    }
  }

  /** @param {string} text @param {string} id */
  async #post(text, id) {
    try {
      // This HTTP answer is this call's, whatever its id (null when the server could not read one).
      this.session.feed({ ...(await this.#http.command(text)), id });
    } catch (error) {
      this.session.failCall(id, error);
    }
  }

  /**
   * The server says where the stream (re)starts.
   * @param {string} epoch @param {number} after @param {boolean} recovered
   */
  #resumed(epoch, after, recovered) {
    this.session.resync(epoch, after, recovered);
    this.recovered = recovered;
    const { state, recovered: before, epoch: was } = this.status;
    if (state === 'open' && (recovered !== before || epoch !== was)) this._setStatus({ ...this.status, recovered, epoch });
  }

  /** @param {'websocket' | 'polling'} transport */
  #opened(transport) {
    this.#opens++;
    const fallback = transport === 'polling' && this.#options.transport === 'auto' ? this.#fallback : null;
    this._setStatus({
      state: 'open',
      transport,
      recovered: this.recovered ?? true,
      epoch: this.epoch ?? undefined,
      ...(fallback && { fallback }),
    });
    if (fallback && !this.#warned) {
      this.#warned = true;
      warn(`deskbridge: no WebSocket (${fallback}): falling back to HTTP polling, back to a WebSocket when one opens`);
    }
    this.#started.resolve();
    if (this.#opens > 1) this.#abandonLostOperations(this.#head);
  }

  /**
   * After a reconnection, once the events missed meanwhile are in: an operation the server no longer
   * knows died with the server's previous run (a crash leaves no terminal event), so its handle would
   * wait forever. Fail it instead.
   * @param {number} head the newest seq on disk when the stream restarted
   */
  async #abandonLostOperations(head) {
    if (this.session.lastSeq < head) {
      await new Promise((resolve) => {
        const stop = this.session.onEvent('*', (event) => {
          if (/** @type {number} */ (event.seq) < head) return;
          stop();
          resolve(undefined);
        });
      });
    }
    for (const id of this.session.runningOperations()) {
      const error = await this.call('GET_OPERATION', { operation_id: id }).then(() => null, (error) => error);
      if (error?.error_code === 'OPERATION_NOT_FOUND') {
        this.session.abandon(id, new ConnectionLost(`operation ${id} was lost: the server restarted while it ran`));
      }
    }
  }

  /** @param {unknown} error */
  #shutdown(error) {
    this.#stop.abort();
    this.session.close(error);
    this._setStatus({ state: 'closed', transport: null, ...(!this.#closing && { error }) });
    this.#started.reject(error);
  }
}

const NO_WEBSOCKET =
  'this runtime has no WebSocket: Node before 22 needs the optional `ws` package (npm install ws) or the WebSocket option';

/**
 * The runtime's WebSocket, else the `ws` package's where it can be loaded (Node before 22).
 * @returns {Promise<import('./websocket.js').WebSocketClass | null>}
 */
async function findWebSocket() {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  if (!globalThis.process?.versions?.node) return null;
  const name = 'ws'; // not a literal: a browser bundler must not try to include it
  try {
    return /** @type {any} */ (await import(name)).WebSocket;
  } catch {
    return null;
  }
}

/** Once per client: a process warning in Node (silenced by `--no-warnings`), the console elsewhere. @param {string} text */
function warn(text) {
  if (globalThis.process?.emitWarning) globalThis.process.emitWarning(text, { code: 'DESKBRIDGE_POLLING_FALLBACK' });
  else console.warn(text);
}
