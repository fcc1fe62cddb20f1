/**
 * The API every client shares (stdio, WebSocket, polling): calls, operations, events, status.
 * A subclass moves the bytes: it implements `start()`, `close()` and `_send()`, feeds `this.session`,
 * and reports its state through `_setStatus()`.
 */
import { notify } from './callbacks.js';
import { Session } from './session.js';

/**
 * @typedef {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} State
 * @typedef {{state: State, transport: 'stdio' | 'websocket' | 'polling' | null, recovered?: boolean,
 *            epoch?: string, error?: unknown, fallback?: string}} Status
 */

export class Client {
  /** @type {Status} */
  status = { state: 'idle', transport: null };
  /** The session under this client: one for its whole life, across reconnections. */
  session = new Session((text, id) => this._send(text, id));
  /** @type {Set<(status: Status) => void>} */
  #statusCallbacks = new Set();

  /**
   * Send a command; resolve with its `data`. Rejects with a `RemoteError` (`error_code`, `details`) on an
   * error response, with `ConnectionLost` when the connection goes before the answer.
   * @param {string} type
   * @param {unknown} [payload]
   * @param {{signal?: AbortSignal}} [options]
   */
  call(type, payload, options) {
    return this.session.call(type, payload, options);
  }

  /**
   * Start an operation; the returned handle takes progress callbacks before anything can arrive.
   * @param {string} type
   * @param {unknown} [payload]
   * @param {{onProgress?: (payload: Record<string, unknown>) => void, signal?: AbortSignal}} [options]
   */
  startOperation(type, payload, options) {
    return this.session.startOperation(type, payload, options);
  }

  /**
   * Call `callback` once for every new event of `types` (`"*"`: all), across reconnections.
   * @param {string | string[]} types
   * @param {(event: Record<string, unknown>) => void} callback
   * @returns {() => void} a function that unsubscribes
   */
  onEvent(types, callback) {
    return this.session.onEvent(types, callback);
  }

  /**
   * Call `callback` on every change of `status`.
   * @param {(status: Status) => void} callback
   * @returns {() => void} a function that unsubscribes
   */
  onStatus(callback) {
    this.#statusCallbacks.add(callback);
    return () => this.#statusCallbacks.delete(callback);
  }

  /** The `seq` of the newest event received: save it with `epoch` to resume later. */
  get lastSeq() {
    return this.session.lastSeq;
  }

  /** The event log's epoch, known once connected. */
  get epoch() {
    return this.session.epoch;
  }

  /** @param {Status} status */
  _setStatus(status) {
    this.status = status;
    notify(this.#statusCallbacks, status);
  }

  /**
   * Write one encoded command, or throw (e.g. `ConnectionLost`) when it cannot be sent.
   * @abstract
   * @param {string} text
   * @param {string} id
   * @returns {void}
   */
  _send(text, id) {
    throw new Error('a Client subclass implements _send');
  }
}
