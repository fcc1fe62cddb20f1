/**
 * A stand-in for the `electron` module, as much of it as the README's Electron sample touches, so that the
 * sample runs in plain Node (Electron is an outside program; deskbridge's client under it is the real one).
 *
 * `app` follows Electron's quit sequence: `quit()` emits a cancellable `before-quit`, then, unless a listener
 * called `preventDefault()`, `will-quit` (cancellable too) and `quit`. `userQuits()` is the same sequence
 * started by the user (Cmd+Q, the last window closed), not by the app's own code. `BrowserWindow` and
 * `ipcMain` only record what the sample gives them.
 */
import { EventEmitter } from 'node:events';

class QuitEvent {
  defaultPrevented = false;

  preventDefault() {
    this.defaultPrevented = true;
  }
}

class App extends EventEmitter {
  /** @type {Map<string, string>} */
  #paths = new Map();
  /** @type {(value?: unknown) => void} */
  #resolveReady = () => {};
  #ready = new Promise((resolve) => (this.#resolveReady = resolve));
  /** How many times the app's code called `app.quit()`. */
  quitCalls = 0;
  /** Every `before-quit` event emitted, in order. */
  /** @type {QuitEvent[]} */
  beforeQuitEvents = [];
  /** True once the quit sequence ran to its end (`quit` emitted). */
  quitted = false;

  /** @param {string} name */
  getPath(name) {
    const path = this.#paths.get(name);
    if (path === undefined) throw new Error(`Failed to get '${name}' path`);
    return path;
  }

  /** @param {string} name @param {string} path */
  setPath(name, path) {
    this.#paths.set(name, path);
  }

  whenReady() {
    return this.#ready;
  }

  /** What Electron does once the main script has run and it is initialised. */
  becomeReady() {
    this.#resolveReady();
    this.emit('ready');
  }

  quit() {
    this.quitCalls += 1;
    this.#quitSequence();
  }

  userQuits() {
    this.#quitSequence();
  }

  #quitSequence() {
    if (this.quitted) return;
    const beforeQuit = new QuitEvent();
    this.beforeQuitEvents.push(beforeQuit);
    this.emit('before-quit', beforeQuit);
    if (beforeQuit.defaultPrevented) return;
    const willQuit = new QuitEvent();
    this.emit('will-quit', willQuit);
    if (willQuit.defaultPrevented) return;
    this.quitted = true;
    this.emit('quit', new QuitEvent(), 0);
  }
}

export const app = new App();

export class BrowserWindow {
  /** @type {BrowserWindow[]} */
  static opened = [];

  /** @param {Record<string, any>} [options] */
  constructor(options = {}) {
    this.options = options;
    /** @type {Array<[string, unknown[]]>} */
    this.sent = [];
    this.webContents = {
      /** @param {string} channel @param {unknown[]} args */
      send: (channel, ...args) => this.sent.push([channel, args]),
    };
    BrowserWindow.opened.push(this);
  }
}

export const ipcMain = {
  /** @type {Map<string, (event: unknown, ...args: any[]) => unknown>} */
  handlers: new Map(),
  /** @param {string} channel @param {(event: unknown, ...args: any[]) => unknown} handler */
  handle(channel, handler) {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  },
  /** What a renderer's `ipcRenderer.invoke(channel, ...args)` reaches. @param {string} channel @param {unknown[]} args */
  invoke(channel, ...args) {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler({ sender: null }, ...args);
  },
};
