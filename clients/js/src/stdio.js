/**
 * The stdio door from Node or Electron's main process: spawn `deskbridge stdio <apps>` and speak NDJSON
 * over its pipes (docs/protocol.md). This entry point (`deskbridge-client/stdio`) is the only one that
 * touches `node:child_process`; it re-exports the browser-safe entry point too.
 */
import { spawn } from 'node:child_process';
import { deferred, notify } from './callbacks.js';
import { Client } from './client.js';
import { BackendStartError, ConnectionLost } from './errors.js';
import { LineFramer } from './framing.js';

export * from './index.js';

/** How many of the backend's last stderr lines are kept, for errors and `stderrTail`. */
const STDERR_LINES = 50;

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
 */

/** A backend child process and the session that speaks to it. */
export class StdioClient extends Client {
  /** @type {Record<string, any> | null} the backend's `BACKEND_READY` line, once it is ready */
  ready = null;
  /** @type {string[]} the last lines the backend wrote on stderr */
  stderrTail = [];
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
      this.session.feed(message);
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
    this.session.resync(message.epoch, message.last_seq);
    this._setStatus({ state: 'open', transport: 'stdio', epoch: message.epoch });
    this.#started.resolve(message);
  }

  /** @param {number | null} code @param {NodeJS.Signals | null} signal */
  #exit(code, signal) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const tail = this.stderrTail.join('\n');
    this.#started.reject(new BackendStartError(this.#startError ?? `the backend ${how} before it was ready`, tail));
    const error = new ConnectionLost(`the backend ${how}; its last stderr lines:\n${this.stderrTail.slice(-10).join('\n')}`);
    this.session.close(error);
    this._setStatus({ state: 'closed', transport: 'stdio', ...(!this.#closing && { error }) });
    this.#exited.resolve(code);
  }
}
