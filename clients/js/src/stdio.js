/**
 * The stdio door from Node or Electron's main process: spawn `deskbridge stdio <apps>` and speak NDJSON
 * over its pipes (docs/protocol.md). This entry point (`deskbridge-client/stdio`) is the only one that
 * touches `node:child_process`; it re-exports the browser-safe entry point too.
 *
 * Save `client.cursor` and pass it back as the `resume` option: the next client replays what the event
 * log holds after it (`GET_EVENTS`, page by page) before any live event, so neither a backend killed
 * before its last events reached the pipe nor a restart of the front end loses one (docs/protocol.md,
 * "Resume over stdio").
 */
import { spawn } from 'node:child_process';
import { deferred, notify } from './callbacks.js';
import { Client } from './client.js';
import { BackendStartError, ConnectionLost } from './errors.js';
import { LineFramer } from './framing.js';

export * from './index.js';

/** How many of the backend's last stderr lines are kept, for errors and `stderrTail`. */
const STDERR_LINES = 50;
/** Events per `GET_EVENTS` page while replaying from a cursor. */
const RESUME_PAGE = 1000;

/**
 * @typedef {object} StdioOptions
 * @property {string[]} [apps] the apps to serve (default `["studio"]`)
 * @property {string[]} [command] the program and its first arguments (default `["deskbridge"]`;
 *   e.g. `["/path/to/python", "-m", "deskbridge"]` or a frozen executable)
 * @property {string[]} [args] more arguments after the apps (e.g. `["--config", file]`)
 * @property {string} [dataDir] the backend's data directory (`--data-dir`)
 * @property {Record<string, string>} [env] extra environment variables
 * @property {string} [cwd] the backend's working directory
 * @property {number} [readyTimeout] ms to wait for `BACKEND_READY` (default 30 000)
 * @property {(line: string) => void} [onStderr] every line the backend writes on stderr (JSON logs)
 * @property {Cursor} [resume] a cursor saved from `client.cursor`: the events the log holds after it reach
 *   the listeners first, once each and in order, then the live ones
 */

/**
 * Where a client stands in the event log: its epoch, and the `seq` of the last event handed to the listeners.
 * @typedef {{epoch: string, lastSeq: number}} Cursor
 */

/** A backend child process and the session that speaks to it. */
export class StdioClient extends Client {
  /** @type {Record<string, any> | null} the backend's `BACKEND_READY` line, once it is ready */
  ready = null;
  /** @type {string[]} the last lines the backend wrote on stderr */
  stderrTail = [];
  /**
   * @type {boolean | null} whether the resume proved that no event was missed (false: reload your state,
   * the log is a new one or its history after the cursor was trimmed); null until the replay's first answer
   */
  recovered = null;
  /** @type {import('./callbacks.js').Deferred<boolean>} */
  #caughtUp = deferred();
  /**
   * Resolves with `recovered` once every event after the `resume` cursor has reached the listeners (at
   * ready without `resume`); rejects with `ConnectionLost` when the backend dies first.
   * @type {Promise<boolean>}
   */
  caughtUp = this.#caughtUp.promise;
  /** @type {Cursor | null} */
  #resume = null;
  /** @type {Record<string, any>[] | null} live events read while the replay runs, merged by seq after it */
  #held = null;
  /** @type {Required<Pick<StdioOptions, 'apps' | 'command' | 'args' | 'readyTimeout'>> & StdioOptions} */
  #options;
  /** @type {import('node:child_process').ChildProcessWithoutNullStreams | null} */
  #child = null;
  /** @type {import('./callbacks.js').Deferred<Record<string, any>>} */
  #started = deferred();
  /** @type {import('./callbacks.js').Deferred<number | null>} */
  #exited = deferred();
  /** @type {string | null} why it could not start, if the backend or the OS said */
  #startError = null;
  #closing = false;

  /** @param {StdioOptions} [options] */
  constructor(options = {}) {
    super();
    this.#options = { apps: ['studio'], command: ['deskbridge'], args: [], readyTimeout: 30_000, ...options };
    const { resume } = options;
    if (resume !== undefined && resume !== null) {
      const { epoch, lastSeq } = resume;
      if (typeof epoch !== 'string' || !Number.isSafeInteger(lastSeq) || lastSeq < 0) {
        throw new TypeError(`resume must be {epoch: string, lastSeq: integer >= 0}, not ${JSON.stringify(resume)}`);
      }
      this.#resume = { epoch, lastSeq };
      this.session.epoch = epoch;
      this.session.lastSeq = lastSeq;
      this.#held = [];
    }
  }

  /**
   * The epoch and `seq` of the last event handed to the listeners (null before the backend is ready, unless
   * resuming): save it, pass it back as the `resume` option.
   * @returns {Cursor | null}
   */
  get cursor() {
    const { epoch, lastSeq } = this.session;
    return epoch === null ? null : { epoch, lastSeq };
  }

  /** The backend's process id, once spawned. */
  get pid() {
    return this.#child?.pid;
  }

  /**
   * Spawn the backend; resolve with its `BACKEND_READY` line. Rejects with a `BackendStartError` holding
   * the backend's stderr tail when it fails, dies or stays silent before it is ready.
   * @returns {Promise<Record<string, any>>}
   */
  start() {
    if (this.#child !== null || this.#closing) return this.#started.promise;
    const { apps, command, args, dataDir, env, cwd, readyTimeout } = this.#options;
    const argv = [...command.slice(1), 'stdio', ...apps, ...args, ...(dataDir ? ['--data-dir', dataDir] : [])];
    this._setStatus({ state: 'connecting', transport: 'stdio' });
    const child = spawn(command[0], argv, { env: { ...process.env, ...env }, cwd, windowsHide: true });
    this.#child = child;

    const timer = setTimeout(() => {
      this.#startError = `not ready within ${readyTimeout} ms`;
      child.kill('SIGKILL');
    }, readyTimeout);
    const stopTimer = () => clearTimeout(timer);
    this.#started.promise.then(stopTimer, stopTimer);

    const stdout = new LineFramer();
    child.stdout.on('data', (chunk) => this.#receive(stdout.feed(chunk)));
    child.stdout.on('end', () => this.#receive(stdout.end()));
    const stderr = new LineFramer();
    child.stderr.on('data', (chunk) => this.#log(stderr.feed(chunk)));
    child.stderr.on('end', () => this.#log(stderr.end()));
    child.stdin.on('error', () => {}); // EPIPE once the backend is gone: 'close' below reports that
    child.on('error', (error) => (this.#startError ??= `cannot run ${command[0]}: ${error.message}`));
    child.on('close', (code, signal) => this.#exit(code, signal));
    return this.#started.promise;
  }

  /**
   * Close the backend's stdin (its cue to shut down gracefully) and wait for it to exit; kill it if it
   * takes longer than `timeout` ms. Calls still waiting then reject with `ConnectionLost`.
   * @param {{timeout?: number}} [options]
   * @returns {Promise<number | null>} its exit code (null when killed by a signal)
   */
  async close({ timeout = 5000 } = {}) {
    this.#closing = true;
    const child = this.#child;
    if (child === null) {
      const error = new ConnectionLost('the client is closed');
      this.#started.reject(error);
      this.session.close(error);
      this._setStatus({ state: 'closed', transport: 'stdio' });
      return null;
    }
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    const code = await this.#exited.promise;
    clearTimeout(timer);
    return code;
  }

  /** @param {string} text */
  _send(text) {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.writableEnded || stdin.destroyed) throw new ConnectionLost('the backend is not running');
    stdin.write(`${text}\n`);
  }

  /** Lines from the backend's stdout: responses and events. @param {string[]} lines */
  #receive(lines) {
    for (const line of lines) {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        // The backend guards its stdout (docs/protocol.md, "stdio hygiene"): a broken line means a broken stream.
        this.session.close(new ConnectionLost(`the backend wrote a line that is not JSON: ${line.slice(0, 200)}`));
        this.#child?.kill('SIGKILL');
        return;
      }
      if (this.#held !== null && typeof message?.seq === 'number') this.#held.push(message);
      else this.session.feed(message);
    }
  }

  /** Lines from the backend's stderr: its ready line, then JSON logs. @param {string[]} lines */
  #log(lines) {
    for (const line of lines) {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_LINES) this.stderrTail.shift();
      if (this.ready === null) this.#readyLine(line);
      if (this.#options.onStderr) notify([this.#options.onStderr], line);
    }
  }

  /** @param {string} line */
  #readyLine(line) {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message?.type === 'BACKEND_ERROR') this.#startError = `${message.error_code}: ${message.error}`;
    if (message?.type !== 'BACKEND_READY') return;
    this.ready = message;
    const { epoch, last_seq: head } = message;
    const resume = this.#resume;
    if (resume === null) this.session.resync(epoch, head);
    if (resume === null || (resume.epoch === epoch && resume.lastSeq === head)) {
      this.recovered = true;
      this._setStatus({ state: 'open', transport: 'stdio', recovered: true, epoch });
      // After the code awaiting start() has run: listeners it adds get the live events read so far.
      setImmediate(() => this.#release());
    } else {
      this._setStatus({ state: 'open', transport: 'stdio', epoch });
      void this.#replay(resume);
    }
    this.#started.resolve(message);
  }

  /**
   * Hand the session every event the log holds after `cursor`, page by page, then the live events held
   * meanwhile (those already replayed are dropped by seq).
   * @param {Cursor} cursor
   */
  async #replay({ epoch, lastSeq: after }) {
    let first = true;
    try {
      for (;;) {
        const page = /** @type {any} */ (await this.call('GET_EVENTS', { epoch, after, limit: RESUME_PAGE }));
        if (first) {
          first = false;
          this.#resumed(page.recovered, page.epoch, page.after);
        }
        for (const event of page.events) this.session.feed(event);
        ({ epoch, last_seq: after } = page);
        if (!page.more) break;
      }
    } catch (error) {
      if (error instanceof ConnectionLost) return this.#caughtUp.reject(error); // the backend died: `#exit` says so
      // It cannot replay (a RemoteError: an older backend): go on live, and say that something may be missing.
      const ready = /** @type {Record<string, any>} */ (this.ready);
      this.#resumed(false, ready.epoch, first ? ready.last_seq : this.session.lastSeq);
    }
    this.#release();
  }

  /** The replay is over: deliver the live events held meanwhile, and deliver the next ones at once. */
  #release() {
    const held = this.#held ?? [];
    this.#held = null;
    for (const event of held) this.session.feed(event);
    if (this.status.state === 'open') this.#caughtUp.resolve(/** @type {boolean} */ (this.recovered));
  }

  /**
   * The backend says where the stream starts: after `after` in `epoch` (0 in a new log, whose seqs restart).
   * @param {boolean} recovered @param {string} epoch @param {number} after
   */
  #resumed(recovered, epoch, after) {
    this.session.epoch = epoch;
    this.session.lastSeq = after;
    this.recovered = recovered;
    if (this.status.state === 'open') this._setStatus({ state: 'open', transport: 'stdio', recovered, epoch });
  }

  /** @param {number | null} code @param {NodeJS.Signals | null} signal */
  #exit(code, signal) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const tail = this.stderrTail.join('\n');
    this.#started.reject(new BackendStartError(this.#startError ?? `the backend ${how} before it was ready`, tail));
    const error = new ConnectionLost(`the backend ${how}; its last stderr lines:\n${this.stderrTail.slice(-10).join('\n')}`);
    // Live events still held behind an unfinished replay are dropped, not delivered: the cursor stays
    // before the gap, and the next resume replays them from the log.
    this.#held = null;
    this.#caughtUp.reject(error);
    this.session.close(error);
    this._setStatus({ state: 'closed', transport: 'stdio', ...(!this.#closing && { error }) });
    this.#exited.resolve(code);
  }
}
