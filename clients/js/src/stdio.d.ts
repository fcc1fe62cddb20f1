// Types of deskbridge-client/stdio: everything of the main entry point, and the stdio client.
import type { Client, Schema, SchemaShape } from './index.js';

export * from './index.js';

export interface StdioOptions {
  /** The apps to serve (default `["studio"]`). */
  apps?: string[];
  /** The program and its first arguments (default `["deskbridge"]`), e.g. `["/path/to/python", "-m", "deskbridge"]`. */
  command?: string[];
  /** More arguments after the apps, e.g. `["--config", file]`. */
  args?: string[];
  /** The backend's data directory (`--data-dir`). */
  dataDir?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** The backend's working directory. */
  cwd?: string;
  /** How long to wait for `BACKEND_READY`, ms (default 30 000). */
  readyTimeout?: number;
  /** Every line the backend writes on stderr (its JSON logs). */
  onStderr?: (line: string) => void;
  /**
   * A cursor saved from `client.cursor`: once ready, the client replays the events the log holds after it
   * (`GET_EVENTS`, page by page) to the listeners, once each and in order, before any live event.
   * `recovered` (and a second `open` status) says whether the log could prove that nothing was missed.
   */
  resume?: Cursor;
}

/** Where a client stands in the event log: its epoch and the `seq` of the last event handed to the listeners. */
export interface Cursor {
  epoch: string;
  lastSeq: number;
}

/** The line the backend writes on stderr once it is ready (docs/protocol.md, "Framing"). */
export interface ReadyMessage {
  type: 'BACKEND_READY';
  protocol: string;
  version: string;
  app: string;
  apps: string[];
  transport: 'stdio';
  pid: number;
  epoch: string;
  last_seq: number;
  commands: string[];
  events: string[];
  timestamp: number;
  [key: string]: unknown;
}

/** A backend child process (`deskbridge stdio <apps>`) and the session that speaks to it over its pipes. */
export class StdioClient<S extends SchemaShape = Schema> extends Client<S> {
  constructor(options?: StdioOptions);
  /** The `BACKEND_READY` line, once ready. */
  readonly ready: ReadyMessage | null;
  /** The last lines the backend wrote on stderr. */
  readonly stderrTail: string[];
  /** The backend's process id, once spawned. */
  readonly pid: number | undefined;
  /** The epoch and `seq` of the last event handed to the listeners: save it, pass it back as `resume`. Null before ready (unless resuming). */
  readonly cursor: Cursor | null;
  /**
   * Whether the resume proved that no event was missed: false when the log is a new one (the replay then
   * starts at its beginning) or its history after the cursor was trimmed: reload your state. True without
   * `resume`; null until the replay's first answer.
   */
  readonly recovered: boolean | null;
  /**
   * Resolves with `recovered` once every event after the `resume` cursor has reached the listeners (just
   * after ready without `resume`); rejects with `ConnectionLost` when the backend dies first.
   */
  readonly caughtUp: Promise<boolean>;
  /**
   * Spawn the backend; resolves on `BACKEND_READY`; rejects with `BackendStartError` (and its stderr tail) when it dies first.
   * With `resume`, the replay runs after this resolves: listeners added before, or right after it, get every replayed event.
   */
  start(): Promise<ReadyMessage>;
  /** Close its stdin (a graceful shutdown), wait for it to exit, kill it after `timeout` ms (default 5 000); its exit code. */
  close(options?: { timeout?: number }): Promise<number | null>;
}
