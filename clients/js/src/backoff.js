/**
 * When to try again: exponential backoff with jitter, and a sleep that an AbortSignal cuts short.
 */

/** Delays (ms) between attempts: doubling from `initial` up to `maximum`, each picked in [d/2, d]. */
export class Backoff {
  /** @param {{initial?: number, maximum?: number, factor?: number}} [options] */
  constructor({ initial = 50, maximum = 5000, factor = 2 } = {}) {
    this.initial = initial;
    this.maximum = maximum;
    this.factor = factor;
  }

  /** @returns {Generator<number, never>} a fresh sequence of delays: start one per run of failures */
  *delays() {
    for (let delay = this.initial; ; delay = Math.min(this.maximum, delay * this.factor)) {
      yield delay / 2 + (Math.random() * delay) / 2;
    }
  }
}

/**
 * Wait `ms`, or less if `signal` aborts first (it resolves either way).
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
