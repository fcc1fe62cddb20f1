/**
 * Every error the client raises is a {@link DeskbridgeError}: `error_code` says which kind, with the
 * backend's codes (docs/protocol.md) for errors the backend reported and the client's own otherwise.
 */

/** Base of every error the client raises. */
export class DeskbridgeError extends Error {
  /**
   * @param {string} message
   * @param {string} error_code
   * @param {ErrorOptions} [options]
   */
  constructor(message, error_code, options) {
    super(message, options);
    this.name = new.target.name;
    /** The backend's error code, or the client's own (`CONNECTION_LOST`, `BACKEND_START_FAILED`, ...). */
    this.error_code = error_code;
  }
}

/** The backend answered with an error response: `error_code` and `details` are the backend's. */
export class RemoteError extends DeskbridgeError {
  /** @param {{error?: string, error_code?: string, details?: unknown}} response the error response (or terminal payload) */
  constructor(response) {
    const code = response.error_code ?? 'INTERNAL_ERROR';
    super(response.error || code, code); // the code is in `error_code`, not repeated in the message
    /** The backend's `details`, e.g. `{fields: ["$.seconds"]}` for `INVALID_PAYLOAD`. */
    this.details = response.details;
    /** The whole message the backend sent. */
    this.response = response;
  }
}

/** An operation ended `failed` or `cancelled` (`status` says which); carries its terminal payload. */
export class OperationFailed extends RemoteError {
  /** @param {{status: string, error?: string, error_code?: string, details?: unknown}} payload */
  constructor(payload) {
    super({ error_code: payload.status === 'cancelled' ? 'OPERATION_CANCELLED' : undefined, ...payload });
    this.status = payload.status;
  }
}

/** The connection closed (or never opened) before the answer came. */
export class ConnectionLost extends DeskbridgeError {
  /** @param {string} message @param {ErrorOptions} [options] */
  constructor(message, options) {
    super(message, 'CONNECTION_LOST', options);
  }
}

/** The server refused this client (token, Origin or Host): retrying cannot help, so the client does not. */
export class Refused extends DeskbridgeError {
  /**
   * @param {string} message
   * @param {number} status the HTTP status (401, ...) or WebSocket close code (4401, ...)
   * @param {string} [error_code] the server's code; by default derived from `status`
   */
  constructor(message, status, error_code = REFUSAL_CODES[status % 1000] ?? 'REFUSED') {
    super(message, error_code);
    this.status = status;
  }
}

/** @type {Record<number, string>} The wire's refusal codes (docs/web.md), by HTTP status; a close code 44xx mirrors status 4xx. */
const REFUSAL_CODES = { 400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN_ORIGIN', 421: 'MISDIRECTED_REQUEST' };

/** The backend process failed or died before it was ready; `stderr` holds the tail of what it wrote. */
export class BackendStartError extends DeskbridgeError {
  /** @param {string} message @param {string} stderr */
  constructor(message, stderr) {
    super(stderr ? `${message}; stderr:\n${stderr}` : message, 'BACKEND_START_FAILED');
    this.stderr = stderr;
  }
}
