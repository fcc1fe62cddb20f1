// Types of deskbridge-client's browser-safe entry point (hand-written; commands.d.ts is generated).
import type { Schema } from './commands.js';

export type { Commands, ErrorCode, EventType, Schema } from './commands.js';

/** What a generated schema looks like: `Client<S>` is typed by one (default: studio, guardian, diag). */
export interface SchemaShape {
  commands: object;
  events: string;
}

/** The command types of a schema. */
export type CommandType<S extends SchemaShape = Schema> = keyof S['commands'] & string;
/** The payload of command `K`. */
export type PayloadOf<S extends SchemaShape, K extends CommandType<S>> = S['commands'][K] extends { payload: infer P } ? P : never;
/** The data command `K` answers with. */
export type DataOf<S extends SchemaShape, K extends CommandType<S>> = S['commands'][K] extends { data: infer D } ? D : never;
/** What operation `K` ends with: its terminal event's `result`. */
export type ResultOf<S extends SchemaShape, K extends CommandType<S>> = S['commands'][K] extends { result: infer R } ? R : unknown;
/** The fields operation `K`'s progress events carry (each the latest value; some may not be set yet). */
export type ProgressOf<S extends SchemaShape, K extends CommandType<S>> = S['commands'][K] extends { progress: infer P } ? P : {};
/** The commands that start an operation. */
export type OperationType<S extends SchemaShape = Schema> = {
  [K in CommandType<S>]: S['commands'][K] extends { operation: true } ? K : never;
}[CommandType<S>];
/** A payload may be left out when every field of it is optional. */
type Arguments<P, O> = {} extends P ? [payload?: P, options?: O] : [payload: P, options?: O];

/** An event as the backend sends it. Every event has `seq`; seed 000's carry `payload`, seed 004's `event_type` and `data`. */
export interface DeskbridgeEvent<T extends string = string> {
  type: T;
  seq: number;
  id?: string;
  timestamp?: number;
  payload?: { operation_id?: string; [key: string]: unknown };
  event_type?: string;
  data?: unknown;
  [key: string]: unknown;
}

/** An operation's progress: `{operation_id, status, ...latest fields}`; the terminal one has `result` or `error`. */
export type ProgressPayload<Result = unknown, Fields = {}> = Partial<Fields> & {
  operation_id: string;
  status: 'in_progress' | 'completed' | 'failed' | 'cancelled';
  progress?: number;
  message?: string;
  /** On `completed`. */
  result?: Result;
  error?: string;
  error_code?: string;
  details?: unknown;
  [key: string]: unknown;
};

export interface CallOptions {
  /** Stop waiting (e.g. `AbortSignal.timeout(5000)`): the call rejects with the signal's reason; the backend still runs it. */
  signal?: AbortSignal;
}

export interface OperationOptions<Result = unknown, Fields = {}> {
  /**
   * Cancels the operation: `CANCEL_OPERATION` goes to the backend as soon as the operation's id is known
   * (like LSP's `$/cancelRequest`), and `started` and `result()` reject at once with the signal's reason.
   */
  signal?: AbortSignal;
  /** Registered before the command is sent: receives every progress payload, the terminal one included. */
  onProgress?: (payload: ProgressPayload<Result, Fields>) => void;
}

export type State = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Status {
  state: State;
  /** The transport of the open connection. */
  transport: 'stdio' | 'websocket' | 'polling' | null;
  /** On `open`: false when the server could not prove that no event was missed (reload your state). */
  recovered?: boolean;
  epoch?: string;
  /** On `closed`: why, when it was not `close()`. */
  error?: unknown;
  /** On `open` over `polling` (transport `auto`): why no WebSocket opened. A warning says it once, too. */
  fallback?: string;
}

/** What every client does, whatever the transport. */
export abstract class Client<S extends SchemaShape = Schema> {
  /** The current state, also reported to `onStatus` callbacks. */
  readonly status: Status;
  /** The `seq` of the newest event received: save it with `epoch` to resume later. */
  readonly lastSeq: number;
  /** The event log's epoch, known once connected. */
  readonly epoch: string | null;
  /** Connect (or spawn the backend); resolves once the client can be used. */
  abstract start(): Promise<unknown>;
  /** Disconnect; calls and operations still waiting reject with `ConnectionLost`. */
  abstract close(): Promise<unknown>;
  /**
   * Send a command; resolve with its `data`. Rejects with a `RemoteError` (`error_code`, `details`) on an
   * error response, with `ConnectionLost` when the connection goes before the answer.
   */
  call<K extends CommandType<S>>(type: K, ...args: Arguments<PayloadOf<S, K>, CallOptions>): Promise<DataOf<S, K>>;
  /** Start an operation. The handle is returned at once, before the command is sent: no progress can be missed. */
  startOperation<K extends OperationType<S>>(
    type: K,
    ...args: Arguments<PayloadOf<S, K>, OperationOptions<ResultOf<S, K>, ProgressOf<S, K>>>
  ): Operation<DataOf<S, K>, ResultOf<S, K>, ProgressOf<S, K>>;
  /** Call `callback` once for every new event of `types` (`"*"`: all), across reconnections. Returns an unsubscribe function. */
  onEvent(types: S['events'] | S['events'][] | '*', callback: (event: DeskbridgeEvent<S['events']>) => void): () => void;
  /** Call `callback` on every change of `status`. Returns an unsubscribe function. */
  onStatus(callback: (status: Status) => void): () => void;
}

/** A running operation (docs/protocol.md, "Operations"). */
export class Operation<Started = { operation_id: string; status: 'pending' }, Result = unknown, Fields = {}> {
  private constructor();
  /** The command that started it. */
  readonly type: string;
  /** The backend's `operation_id`, once the command has been answered. */
  readonly id: string | undefined;
  /** The latest progress payload (the terminal one at the end). */
  readonly last: ProgressPayload<Result, Fields> | undefined;
  /** Whether it has ended here: a terminal event came, or it failed (its command, the client, its signal). */
  readonly ended: boolean;
  /** The command's answer; rejects when the command failed (e.g. `INVALID_PAYLOAD`). */
  readonly started: Promise<Started>;
  /** Receive every progress payload from now on, the terminal one included. Returns an unregister function. */
  onProgress(callback: (payload: ProgressPayload<Result, Fields>) => void): () => void;
  /**
   * Its result; rejects with `OperationFailed` (`status` `failed` or `cancelled`), the command's error, or
   * `ConnectionLost` (the client closed, the stdio backend died, or a restarted server no longer knows it).
   */
  result(): Promise<Result>;
  /** Ask the backend to stop it; false when it had already finished. */
  cancel(): Promise<boolean>;
}

/** The minimum the client needs of a WebSocket class: the browser's, Node's (22+), or the `ws` package's. */
export type WebSocketClass = new (url: string) => {
  send(data: string): void;
  close(code?: number): void;
  addEventListener(...args: any[]): void;
};

export interface BackoffOptions {
  /** First delay, ms. */
  initial?: number;
  /** Longest delay, ms. */
  maximum?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
}

export interface WebClientOptions {
  /** The server's token (`<data-dir>/token`): `?token=` on the WebSocket, `Authorization: Bearer` on HTTP. */
  token?: string;
  /** Names this client to the server: its cursor counts as an acknowledgement and holds back retention. */
  clientId?: string;
  /** `auto` (default): a WebSocket, else HTTP polling, back to a WebSocket when one opens again. */
  transport?: 'auto' | 'websocket' | 'polling';
  /** Resume from a cursor saved earlier (`lastSeq`, with its `epoch`) instead of starting from now. */
  after?: number;
  epoch?: string;
  /** A WebSocket implementation, for runtimes without a global one (Electron's main process before Node 22: `ws`). */
  WebSocket?: WebSocketClass;
  fetch?: typeof fetch;
  /** Delays between reconnection attempts (default 50 ms doubling to 5 s, with jitter). */
  backoff?: BackoffOptions;
  /** While polling, delays between attempts to open a WebSocket again (default 1 s doubling to 30 s). */
  upgradeBackoff?: BackoffOptions;
  /** Long-poll for up to this many seconds (default 25). */
  wait?: number;
  /** How long a WebSocket may take to open and subscribe, ms (default 10 000). */
  openTimeout?: number;
}

/** The web door (`deskbridge serve`): a WebSocket, HTTP polling when it cannot open, resumed by seq across reconnections. */
export class WebClient<S extends SchemaShape = Schema> extends Client<S> {
  /** @param url any URL of the server: `http://127.0.0.1:8001`, `ws://127.0.0.1:8001/ws`, ... */
  constructor(url: string, options?: WebClientOptions);
  /** `"websocket"` or `"polling"` while connected, else null. */
  readonly transport: 'websocket' | 'polling' | null;
  /** Whether the last resume proved that no event was missed (false: reload your state). */
  readonly recovered: boolean | null;
  /** Resolves once the first connection is open; rejects with `Refused` or `ConnectionLost`. Later drops reconnect by themselves. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Base of every error the client raises; `error_code` says which kind. */
export class DeskbridgeError extends Error {
  constructor(message: string, error_code: string, options?: ErrorOptions);
  /** The backend's code (docs/protocol.md), or the client's own: `CONNECTION_LOST`, `BACKEND_START_FAILED`, `NOT_AN_OPERATION`. */
  readonly error_code: string;
}

/** The backend answered with an error response: `message` is its `error`, the code is in `error_code`. */
export class RemoteError extends DeskbridgeError {
  constructor(response: { error?: string; error_code?: string; details?: unknown });
  /** E.g. `{fields: ["$.seconds"]}` for `INVALID_PAYLOAD`. */
  readonly details: unknown;
  /** The whole error response (or terminal progress payload). */
  readonly response: Record<string, unknown>;
}

/** An operation ended `failed` or `cancelled` (`error_code` `OPERATION_CANCELLED`). */
export class OperationFailed extends RemoteError {
  constructor(payload: ProgressPayload);
  readonly status: 'failed' | 'cancelled';
}

/** The connection closed (or could not open) before the answer came. `error_code`: `CONNECTION_LOST`. */
export class ConnectionLost extends DeskbridgeError {
  constructor(message: string, options?: ErrorOptions);
}

/** The server refused this client; the client does not retry. `error_code`: `UNAUTHORIZED`, `FORBIDDEN_ORIGIN`, ... */
export class Refused extends DeskbridgeError {
  constructor(message: string, status: number, error_code?: string);
  /** The HTTP status (401, ...) or WebSocket close code (4401, ...). */
  readonly status: number;
}

/** The backend failed, died or stayed silent before it was ready. `error_code`: `BACKEND_START_FAILED`. */
export class BackendStartError extends DeskbridgeError {
  constructor(message: string, stderr: string);
  /** The last lines it wrote on stderr. */
  readonly stderr: string;
}

/** NDJSON framing: chunks in, complete lines out, whatever the chunk boundaries. */
export class LineFramer {
  /** The lines this chunk completed (without `\r\n`; blank lines skipped). */
  feed(chunk: Uint8Array): string[];
  /** The stream ended: its last line, if it had no newline. */
  end(): string[];
}

/** Exponential backoff with jitter. */
export class Backoff {
  constructor(options?: BackoffOptions);
  readonly initial: number;
  readonly maximum: number;
  readonly factor: number;
  /** A fresh sequence of delays, ms. */
  delays(): Generator<number, never>;
}
