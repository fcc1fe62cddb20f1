// The live event stream: one WebSocket, resumed from (epoch, last seq) after every drop.
//
// States: "connecting" -> "catching-up" (missed events arriving) -> "live";
// a drop -> "reconnecting" (with backoff) -> "catching-up" -> "live";
// a refusal (close codes 4400-4499: token, Origin, Host) -> "refused", never retried.
//
// Dispatches "state" ({state, attempt, pending}) on each change, "event" (each event once, in seq order)
// and "live" ({first, recovered, after, caught_up}) each time the stream is caught up.

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 3000;

export class Connection extends EventTarget {
  #token;
  #attempt = 0;
  #target = 0;
  #caughtUp = 0;
  #resume = null;
  #connected = false;

  /**
   * @param token {string|null} null when the server runs without authentication
   * @param cursor {{epoch: string, after: number}} where the stream starts
   */
  constructor(token, cursor) {
    super();
    this.#token = token;
    this.epoch = cursor.epoch;
    this.lastSeq = cursor.after;
    this.state = "connecting";
  }

  open() {
    const url = new URL("/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (this.#token) url.searchParams.set("token", this.#token);
    url.searchParams.set("epoch", this.epoch);
    url.searchParams.set("after", String(this.lastSeq));
    const socket = new WebSocket(url);
    socket.addEventListener("message", (message) => this.#receive(JSON.parse(message.data)));
    socket.addEventListener("close", (close) => this.#closed(close.code));
  }

  #set(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }

  #receive(message) {
    if (message.type === "SUBSCRIBED") {
      this.#subscribed(message);
      return;
    }
    if (typeof message.seq !== "number" || message.seq <= this.lastSeq) return;
    this.lastSeq = message.seq;
    this.dispatchEvent(new CustomEvent("event", { detail: message }));
    if (this.state === "catching-up") {
      this.#caughtUp += 1;
      if (this.lastSeq >= this.#target) this.#live();
    }
  }

  #subscribed(notice) {
    this.#resume = { first: !this.#connected, recovered: notice.recovered, after: notice.after };
    this.#connected = true;
    this.#attempt = 0;
    if (!notice.recovered || notice.epoch !== this.epoch) {
      this.epoch = notice.epoch; // a log made anew, or trimmed: the stream restarts where the server says
      this.lastSeq = notice.after;
    }
    this.#target = notice.last_seq;
    this.#caughtUp = 0;
    if (this.#target > this.lastSeq) this.#set("catching-up", { pending: this.#target - this.lastSeq });
    else this.#live();
  }

  #live() {
    this.#set("live");
    this.dispatchEvent(new CustomEvent("live", { detail: { ...this.#resume, caught_up: this.#caughtUp } }));
  }

  #closed(code) {
    if (code >= 4400 && code < 4500) {
      this.#set("refused");
      return;
    }
    this.#attempt += 1;
    const backoff = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.#attempt - 1));
    const delay = Math.round(backoff * (0.8 + Math.random() * 0.4));
    this.#set("reconnecting", { attempt: this.#attempt });
    setTimeout(() => this.open(), delay);
  }
}
