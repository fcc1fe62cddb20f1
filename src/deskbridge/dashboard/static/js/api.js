// Commands over HTTP: POST /api/command with the token as a Bearer header.

export class CommandError extends Error {
  constructor(envelope) {
    super(envelope.error || envelope.error_code || "the command failed");
    this.code = envelope.error_code;
    this.details = envelope.details;
  }
}

let counter = 0;

export function createApi(token) {
  /** The whole answer: HTTP status and the response envelope (the console shows both). */
  async function send(type, payload = {}) {
    const body = JSON.stringify({ id: `dashboard-${++counter}`, type, payload });
    let response;
    try {
      response = await fetch("/api/command", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body,
      });
    } catch {
      throw new CommandError({ error: "the backend cannot be reached", error_code: "UNREACHABLE" });
    }
    const envelope = await response.json().catch(() => null);
    if (envelope === null) {
      throw new CommandError({ error: `HTTP ${response.status} without a JSON answer`, error_code: "BAD_ANSWER" });
    }
    return { status: response.status, envelope };
  }

  /** The command's data; a failure throws a CommandError. */
  async function call(type, payload = {}) {
    const { envelope } = await send(type, payload);
    if (!envelope.success) throw new CommandError(envelope);
    return envelope.data;
  }

  /** GET /api/status: who serves, and this token's role with the commands it may not run. */
  async function status() {
    const response = await fetch("/api/status", { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    return response.json();
  }

  return { send, call, status };
}
