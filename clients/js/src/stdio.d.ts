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
  /** Spawn the backend; resolves on `BACKEND_READY`; rejects with `BackendStartError` (and its stderr tail) when it dies first. */
  start(): Promise<ReadyMessage>;
  /** Close its stdin (a graceful shutdown), wait for it to exit, kill it after `timeout` ms (default 5 000); its exit code. */
  close(options?: { timeout?: number }): Promise<number | null>;
}
