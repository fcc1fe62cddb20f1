/**
 * The web door's two HTTP endpoints (docs/web.md, "HTTP"): `POST /api/command` and `GET /api/events`.
 */
import { ConnectionLost, Refused } from './errors.js';

/** Error codes of a refusal that never reached the router (docs/web.md, "Authentication, Origin and Host"). */
const REFUSALS = new Set(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN_ORIGIN', 'MISDIRECTED_REQUEST']);

/**
 * @typedef {{events: Array<Record<string, any>>, last_seq: number, head: number, epoch: string,
 *            recovered: boolean, more: boolean}} EventsAnswer
 */

export class HttpApi {
  #base;
  /** @type {Record<string, string>} */
  #headers;
  #clientId;
  #fetch;

  /**
   * @param {string} base the server's origin, e.g. `http://127.0.0.1:8001`
   * @param {{token?: string, clientId?: string, fetch?: typeof fetch}} options
   */
  constructor(base, { token, clientId, fetch = globalThis.fetch }) {
    this.#base = base;
    this.#headers = token ? { authorization: `Bearer ${token}` } : {};
    this.#clientId = clientId;
    this.#fetch = fetch.bind(globalThis); // a browser's fetch throws "Illegal invocation" when called on another object
  }

  /**
   * Events after the cursor, waiting up to `wait` seconds for one when there is none (long-polling).
   * @param {{after: number, epoch: string | null, wait: number, limit?: number, signal?: AbortSignal}} query
   * @returns {Promise<EventsAnswer>}
   */
  async events({ after, epoch, wait, limit = 1000, signal }) {
    const query = new URLSearchParams({ after: String(after), wait: String(wait), limit: String(limit) });
    if (epoch) query.set('epoch', epoch);
    if (this.#clientId) query.set('client_id', this.#clientId);
    const { status, body } = await this.#request(`/api/events?${query}`, { signal });
    if (status !== 200) throw new ConnectionLost(`GET /api/events answered HTTP ${status}`);
    return body;
  }

  /**
   * One command; its response envelope, whatever the HTTP status (an error response is an answer too).
   * @param {string} text the encoded command
   * @returns {Promise<Record<string, any>>}
   */
  async command(text) {
    const init = { method: 'POST', body: text, headers: { 'content-type': 'application/json' } };
    return (await this.#request('/api/command', init)).body;
  }

  /**
   * @param {string} path
   * @param {{method?: string, body?: string, headers?: Record<string, string>, signal?: AbortSignal}} init
   * @returns {Promise<{status: number, body: any}>}
   */
  async #request(path, init) {
    let response;
    let body;
    try {
      response = await this.#fetch(this.#base + path, { ...init, headers: { ...init.headers, ...this.#headers } });
      body = await response.json();
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ConnectionLost(`${init.method ?? 'GET'} ${this.#base}${path.split('?')[0]} failed: ${error}`, { cause: error });
    }
    if (body?.id === null && REFUSALS.has(body.error_code)) {
      throw new Refused(`the server refused this client: ${body.error}`, response.status, body.error_code);
    }
    return { status: response.status, body };
  }
}
