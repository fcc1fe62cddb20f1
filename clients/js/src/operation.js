/**
 * The handle of a long-running command (docs/protocol.md, "Operations").
 *
 * The handle exists before its command is sent, so a progress callback registered when it is returned
 * cannot miss anything: not even progress that arrives in the same chunk as the command's answer
 * (seed 000's client registered its callback only once the answer had been handled, and lost those).
 */
import { deferred, notify } from './callbacks.js';
import { OperationFailed } from './errors.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** @param {{status?: unknown}} payload */
export const isTerminal = (payload) => TERMINAL.has(/** @type {string} */ (payload.status));

export class Operation {
  /** @type {string | undefined} the backend's `operation_id`, once the command has been answered */
  id = undefined;
  /** @type {Record<string, unknown> | undefined} the latest progress payload (the terminal one at the end) */
  last = undefined;
  /** @type {Set<(payload: Record<string, unknown>) => void>} */
  #callbacks = new Set();
  #started = deferred();
  #result = deferred();
  /** @type {(operationId: string) => Promise<{cancelled: boolean}>} */
  #cancel;
  /** @type {Set<() => void>} */
  #ends = new Set();
  /** Whether it has ended here: a terminal event came, or it failed (its command, the client, an abort). */
  ended = false;

  /**
   * Made by the client's `startOperation`, not by hand.
   * @param {string} type the command that starts it
   * @param {(operationId: string) => Promise<{cancelled: boolean}>} cancel sends `CANCEL_OPERATION`
   */
  constructor(type, cancel) {
    this.type = type;
    this.#cancel = cancel;
    /** The command's answer, `{operation_id, status: "pending", ...}`; rejects when the command failed. */
    this.started = this.#started.promise;
  }

  /**
   * Call `callback` with every progress payload from now on (`{operation_id, status, ...}`), the terminal
   * one (`status` `completed`, `failed` or `cancelled`) included.
   * @param {(payload: Record<string, unknown>) => void} callback
   * @returns {() => void} a function that unregisters it
   */
  onProgress(callback) {
    this.#callbacks.add(callback);
    return () => this.#callbacks.delete(callback);
  }

  /**
   * The operation's result. Rejects with {@link OperationFailed} when it failed or was cancelled, with the
   * command's error when it could not start, or with `ConnectionLost` when it cannot end any more (the
   * client closed, the stdio backend died, a restarted server no longer knows it).
   * @returns {Promise<unknown>}
   */
  result() {
    return this.#result.promise;
  }

  /**
   * Ask the backend to stop the operation (after it has started, if it has not yet).
   * @returns {Promise<boolean>} false when it had already finished; its `result()` then tells how it ended
   */
  async cancel() {
    await this.started;
    const data = await this.#cancel(/** @type {string} */ (this.id));
    return data.cancelled;
  }

  /** @internal The command's answer came. @param {{operation_id: string}} data */
  _start(data) {
    this.id = data.operation_id;
    this.#started.resolve(data);
  }

  /** @internal A progress event for this operation. @param {Record<string, unknown>} payload */
  _progress(payload) {
    if (this.ended) return;
    this.last = payload;
    notify(this.#callbacks, payload);
    if (!isTerminal(payload)) return;
    if (payload.status === 'completed') this.#result.resolve(payload.result);
    else this.#result.reject(new OperationFailed(/** @type {any} */ (payload)));
    this.#end();
  }

  /**
   * @internal It will never end normally: its command failed, the client closed, or its signal aborted.
   * @param {unknown} error
   */
  _fail(error) {
    if (this.ended) return;
    this.#started.reject(error);
    this.#result.reject(error);
    this.#end();
  }

  /** @internal Call `callback` once it has ended. @param {() => void} callback */
  _onEnd(callback) {
    this.#ends.add(callback);
  }

  #end() {
    this.ended = true;
    for (const callback of this.#ends) callback();
    this.#ends.clear();
  }
}
