/**
 * The client's protocol core, whatever the transport under it.
 *
 * A transport hands the session a `send` function and feeds it every message it receives. The session
 * matches responses to calls by `id`, routes progress to operation handles by `payload.operation_id`,
 * passes each new event to its listeners once (events are recognised by `seq` and deduplicated by it),
 * and fails every call still waiting when the connection goes: nothing hangs.
 */
import { notify } from './callbacks.js';
import { ConnectionLost, DeskbridgeError, RemoteError } from './errors.js';
import { Operation, isTerminal } from './operation.js';

/** At most this many unknown operations' early progress is held (see `#hold`). */
const EARLY_OPERATIONS = 256;

/**
 * @typedef {{id?: unknown, seq?: number, type?: string, success?: boolean, data?: unknown,
 *            payload?: {operation_id?: string} & Record<string, unknown>} & Record<string, unknown>} Message
 * @typedef {{resolve: (data: any) => void, reject: (error: unknown) => void, operation: boolean, release: () => void}} Pending
 * @typedef {(text: string, id: string) => void} Send
 */

export class Session {
  /** The `seq` of the newest event seen: the cursor a reconnection resumes from. */
  lastSeq = 0;
  /** @type {string | null} the event log's epoch `lastSeq` belongs to */
  epoch = null;

  /** @type {Send} */
  #send;
  #prefix = `c${Math.random().toString(36).slice(2, 10)}-`;
  #counter = 0;
  /** @type {Map<string, Pending>} */
  #pending = new Map();
  #starting = 0;
  /** @type {Map<string, Operation>} */
  #operations = new Map();
  /** @type {Map<string, Record<string, unknown>[]>} */
  #early = new Map();
  /** @type {Set<(event: Message) => void>} */
  #listeners = new Set();
  /** @type {unknown} */
  #closed = null;

  /** @param {Send} send writes one encoded command; throws when it cannot */
  constructor(send) {
    this.#send = send;
  }

  /**
   * Send a command; resolve with its `data`, reject with a {@link RemoteError} on an error response.
   * @param {string} type
   * @param {unknown} [payload]
   * @param {{signal?: AbortSignal}} [options] `signal` gives up waiting (the backend still runs the command)
   * @returns {Promise<any>}
   */
  call(type, payload = {}, { signal } = {}) {
    return new Promise((resolve, reject) => this.#request(type, payload, signal, { resolve, reject, operation: false }));
  }

  /**
   * Start an operation. The handle is returned at once, before the command is even sent.
   * @param {string} type
   * @param {unknown} [payload]
   * @param {{onProgress?: (payload: Record<string, unknown>) => void, signal?: AbortSignal}} [options]
   *   `signal` cancels the operation on the backend (`CANCEL_OPERATION`, sent as soon as its id is known,
   *   as LSP's `$/cancelRequest`); its `started` and `result()` reject at once with the signal's reason
   * @returns {Operation}
   */
  startOperation(type, payload = {}, { onProgress, signal } = {}) {
    const operation = new Operation(type, (operation_id) => this.call('CANCEL_OPERATION', { operation_id }));
    if (onProgress) operation.onProgress(onProgress);
    if (signal?.aborted) {
      operation._fail(signal.reason);
      return operation;
    }
    if (signal) {
      const abort = () => this.#abandonOperation(operation, signal.reason);
      signal.addEventListener('abort', abort, { once: true });
      operation._onEnd(() => signal.removeEventListener('abort', abort));
    }
    const resolve = (/** @type {any} */ data) => this.#adopt(operation, data);
    this.#request(type, payload, undefined, { resolve, reject: (error) => operation._fail(error), operation: true });
    return operation;
  }

  /**
   * Its caller gave up on an operation: it ends here now, and on the backend as soon as its id is known.
   * @param {Operation} operation @param {unknown} reason
   */
  #abandonOperation(operation, reason) {
    operation._fail(reason);
    if (operation.id === undefined) return; // #adopt cancels it when the answer comes
    this.#operations.delete(operation.id);
    this.#cancel(operation.id);
  }

  /** @param {string} operationId */
  #cancel(operationId) {
    this.call('CANCEL_OPERATION', { operation_id: operationId }).catch(() => {}); // it may have ended meanwhile
  }

  /**
   * Call `callback` for every new event of `types` (`"*"`: every event).
   * @param {string | string[]} types
   * @param {(event: Message) => void} callback
   * @returns {() => void} a function that unsubscribes
   */
  onEvent(types, callback) {
    const wanted = types === '*' ? null : new Set([types].flat());
    const listener = (/** @type {Message} */ event) => {
      if (wanted === null || wanted.has(/** @type {string} */ (event.type))) callback(event);
    };
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * @param {string} type
   * @param {unknown} payload
   * @param {AbortSignal | undefined} signal
   * @param {Omit<Pending, 'release'>} pending
   */
  #request(type, payload, signal, pending) {
    if (this.#closed !== null) return pending.reject(this.#closed);
    if (signal?.aborted) return pending.reject(signal.reason);
    const id = this.#prefix + ++this.#counter;
    const abort = () => this.failCall(id, signal?.reason);
    signal?.addEventListener('abort', abort);
    this.#pending.set(id, { ...pending, release: () => signal?.removeEventListener('abort', abort) });
    if (pending.operation) this.#starting++;
    try {
      this.#send(JSON.stringify({ id, type, payload }), id);
    } catch (error) {
      this.failCall(id, error);
    }
  }

  /** @param {unknown} id @returns {Pending | undefined} the call, no longer pending */
  #take(id) {
    const pending = this.#pending.get(/** @type {string} */ (id));
    if (pending === undefined) return undefined;
    this.#pending.delete(/** @type {string} */ (id));
    if (pending.operation) this.#starting--;
    pending.release();
    return pending;
  }

  /** @param {Operation} operation @param {{operation_id?: unknown}} data */
  #adopt(operation, data) {
    const id = data?.operation_id;
    if (typeof id !== 'string') {
      const error = new DeskbridgeError(`${operation.type} is not an operation: its answer has no operation_id`, 'NOT_AN_OPERATION');
      return operation._fail(error);
    }
    if (operation.ended) return this.#cancel(id);
    this.#operations.set(id, operation);
    operation._start(/** @type {{operation_id: string}} */ (data));
    for (const payload of this.#early.get(id) ?? []) this.#progress(operation, payload);
    this.#early.delete(id);
  }

  /**
   * One message from the backend: a response (no `seq`) or an event (with `seq`).
   * @param {Message} message
   */
  feed(message) {
    if (typeof message.seq === 'number') return this.#event(message, message.seq);
    const pending = this.#take(message.id);
    if (pending === undefined) return;
    if (message.success) pending.resolve(message.data);
    else pending.reject(new RemoteError(/** @type {any} */ (message)));
  }

  /** @param {Message} message @param {number} seq */
  #event(message, seq) {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    const payload = message.payload;
    const operationId = payload?.operation_id;
    if (typeof operationId === 'string' && payload) {
      const operation = this.#operations.get(operationId);
      if (operation) this.#progress(operation, payload);
      else if (this.#starting > 0) this.#hold(operationId, payload);
    }
    notify(this.#listeners, message);
  }

  /**
   * Progress of an operation whose answer has not come yet: over HTTP polling, events and answers travel
   * on different requests, so progress can overtake the answer. Replayed into the handle by `#adopt`.
   * @param {string} operationId
   * @param {Record<string, unknown>} payload
   */
  #hold(operationId, payload) {
    const held = this.#early.get(operationId);
    if (held) return void held.push(payload);
    this.#early.set(operationId, [payload]);
    if (this.#early.size > EARLY_OPERATIONS) this.#early.delete(/** @type {string} */ (this.#early.keys().next().value));
  }

  /** @param {Operation} operation @param {Record<string, unknown>} payload */
  #progress(operation, payload) {
    if (isTerminal(payload)) this.#operations.delete(/** @type {string} */ (operation.id));
    operation._progress(payload);
  }

  /**
   * The transport (re)started the event stream at `after` in `epoch`. The session's cursor stays when the
   * epoch is the one it knows and the server recovered it (duplicates are dropped by seq); otherwise (a new
   * log whose seqs restart, or a cursor the log cannot continue, e.g. ahead of it) the cursor moves to where
   * the server starts the stream, so that no event it sends is taken for a duplicate.
   * @param {string} epoch
   * @param {number} after
   * @param {boolean} [recovered]
   */
  resync(epoch, after, recovered = true) {
    if (epoch === this.epoch && recovered) return;
    this.epoch = epoch;
    this.lastSeq = after;
  }

  /** The ids of the operations started here that have not ended yet. */
  runningOperations() {
    return [...this.#operations.keys()];
  }

  /**
   * An operation will never end (the backend that ran it is gone): fail its handle.
   * @param {string} operationId
   * @param {unknown} error
   */
  abandon(operationId, error) {
    this.#operations.get(operationId)?._fail(error);
    this.#operations.delete(operationId);
  }

  /**
   * Fail one call (its request was lost, or its caller gave up).
   * @param {string} id
   * @param {unknown} error
   */
  failCall(id, error) {
    this.#take(id)?.reject(error);
  }

  /**
   * The connection dropped and the transport will reconnect: fail the calls in flight (their answers are
   * lost), keep operation handles and listeners (their events come back with the resumed stream).
   * @param {unknown} error
   */
  failPending(error) {
    for (const id of [...this.#pending.keys()]) this.failCall(id, error);
  }

  /**
   * For good: fail every call and operation still waiting, and refuse new ones with `error`.
   * @param {unknown} [error]
   */
  close(error = new ConnectionLost('the client is closed')) {
    if (this.#closed !== null) return;
    this.#closed = error;
    this.failPending(error);
    for (const operation of this.#operations.values()) operation._fail(error);
    this.#operations.clear();
    this.#early.clear();
  }
}
