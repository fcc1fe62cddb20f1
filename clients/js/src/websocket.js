/**
 * One WebSocket connection to the web door, subscribed to the event stream (docs/web.md, "WebSocket").
 *
 * Its first message is `SUBSCRIBE` with the cursor to resume from (none: the stream starts now); the
 * server answers before anything else, then sends the missed events, then live ones. The connection
 * counts as open only once that answer has come.
 */
import { deferred } from './callbacks.js';
import { ConnectionLost, Refused } from './errors.js';

const SUBSCRIBE_ID = 'subscribe';

/** Close codes 4400-4499 mean "refused: do not retry"; every other code means "reconnect and resume". */
export const isRefusal = (/** @type {number} */ code) => code >= 4400 && code <= 4499;

/**
 * @typedef {{recovered: boolean, epoch: string, after: number, last_seq: number, client_id: string}} Notice
 * @typedef {{send: (text: string) => void, close: () => void, closed: Promise<number>}} Connection
 * @typedef {{new (url: string): WebSocket}} WebSocketClass
 */

/**
 * Open a connection and subscribe. Resolves once subscribed; rejects with `Refused` for a 44xx close,
 * with `ConnectionLost` when the socket closes first, or `signal` aborts, or `timeout` ms pass.
 * @param {string} url the `ws://` endpoint with its query (token, client id)
 * @param {object} options
 * @param {WebSocketClass} options.WebSocket
 * @param {{after?: number, epoch?: string}} options.cursor where to resume (`{}`: from now)
 * @param {number} options.timeout
 * @param {AbortSignal} options.signal gives up opening (once open, `close()` the connection instead)
 * @param {(notice: Notice) => void} options.onNotice called with the subscription before any event
 * @param {(message: Record<string, any>) => void} options.onMessage every later message
 * @returns {Promise<Connection>}
 */
export function openWebSocket(url, { WebSocket, cursor, timeout, signal, onNotice, onMessage }) {
  const opened = deferred();
  const closed = deferred();
  let subscribed = false;
  const socket = new WebSocket(url);
  const close = () => socket.close(1000);
  const timer = setTimeout(close, timeout);
  signal.addEventListener('abort', close);
  const stopWaiting = () => {
    clearTimeout(timer);
    signal.removeEventListener('abort', close);
  };

  // A 'close' follows every 'error', in browsers and in `ws` alike; `ws` (an EventEmitter) would throw an
  // 'error' that has no listener, e.g. a proxy's 502 to the upgrade.
  socket.addEventListener('error', () => {});
  socket.addEventListener('open', () => {
    socket.send(JSON.stringify({ id: SUBSCRIBE_ID, type: 'SUBSCRIBE', payload: cursor }));
  });
  socket.addEventListener('message', ({ data }) => {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return close(); // never sent by the server; reconnecting resumes cleanly
    }
    if (subscribed) return onMessage(message);
    if (message.id !== SUBSCRIBE_ID || !message.success) return close();
    subscribed = true;
    stopWaiting();
    onNotice(message.data);
    opened.resolve({ send: (/** @type {string} */ text) => socket.send(text), close, closed: closed.promise });
  });
  socket.addEventListener('close', ({ code, reason }) => {
    stopWaiting();
    closed.resolve(code);
    if (isRefusal(code)) opened.reject(new Refused(`the server refused this client: ${reason} (close code ${code})`, code));
    else opened.reject(new ConnectionLost(`the WebSocket did not open (close code ${code})`));
  });
  return opened.promise;
}
