/**
 * How results reach user code: promises that may be left unawaited, and callbacks that may throw.
 */

/**
 * @template T
 * @typedef {{promise: Promise<T>, resolve: (value: T) => void, reject: (error: unknown) => void}} Deferred
 */

/**
 * A promise with its resolvers. Rejecting it is never an "unhandled rejection" on its own (not every
 * caller awaits every promise the client hands out); whoever awaits it still gets the error.
 * @template T
 * @returns {Deferred<T>}
 */
export function deferred() {
  /** @type {(value: T) => void} */ let resolve = () => {};
  /** @type {(error: unknown) => void} */ let reject = () => {};
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Call each callback with `value`. One that throws does not stop the others nor the connection that
 * delivered the value: its error is rethrown on its own, as an uncaught error.
 * @template T
 * @param {Iterable<(value: T) => void>} callbacks
 * @param {T} value
 */
export function notify(callbacks, value) {
  for (const callback of [...callbacks]) {
    try {
      callback(value);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
