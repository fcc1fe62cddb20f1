// The game right now: running or not, which processes, the session; force close, or lock until tomorrow.

import { clock, fill, fillSelect, h, minutes } from "../dom.js";
import { perform } from "../forms.js";
import { reloader } from "../reload.js";

const WHILE_PLAYING_MS = 15_000; // the session's length grows without events

export function mount({ call, schema, onEvent, onLive, onChange, every }) {
  const lock = document.getElementById("lock-tomorrow");
  const lockChild = document.getElementById("lock-child");
  const parent = "FORCE_CLOSE" in schema.commands;
  const locks = document.getElementById("game-locks");

  const state = document.getElementById("game-state");
  const processes = document.getElementById("game-processes");
  const sessionLine = document.getElementById("game-session");
  const monitoring = document.getElementById("monitoring-state");
  const close = document.getElementById("force-close");
  const feedback = document.getElementById("game-feedback");
  let playing = false;

  const load = reloader(async () => {
    const status = (await call("DESKTOP_STATUS")).monitoring;
    playing = status.playing;
    state.textContent = playing ? "Playing now" : "Not running";
    state.dataset.playing = String(playing);
    const session = status.session;
    fill(processes, status.processes.map((p) => h("li", {}, `${p.name} (pid ${p.pid}), started ${clock(Date.parse(p.started_at))}`)));
    sessionLine.textContent = session ? `${session.child_profile} has played ${minutes(session.duration_minutes)} this session.` : "";
    monitoring.textContent = status.active
      ? `Watching for ${status.active_child}.`
      : `Monitoring is paused${status.paused_until ? ` until ${new Date(status.paused_until).toLocaleString()}` : ""}: time is not counted.`;
    const held = Object.entries(status.closed_until ?? {});
    if (parent) {
      const children = Object.keys((await call("GET_USAGE")).children);
      fillSelect(lockChild, children, "every child"); // one lock per child: a brother's punishment is not hers
      if (!lockChild.dataset.chosen) lockChild.value = status.active_child;
      document.getElementById("lock-child-label").hidden = children.length < 2;
    }
    locks.textContent = held.map(([child, until]) => `${child}: locked until ${new Date(until).toLocaleString()}`).join("; ");
  });

  close.addEventListener("click", () => {
    if (!confirm("Close the game now?")) return;
    perform(close, feedback, async () => {
      const result = await call("FORCE_CLOSE");
      await load();
      return result.count ? `Closed ${result.count} game process${result.count === 1 ? "" : "es"}.` : "The game was not running.";
    });
  });
  onEvent((event) => (event.type === "roblox_event" || event.type === "session_event") && load());
  lock.addEventListener("click", () => {
    const child = lockChild.value;
    if (!confirm(`Close ${child ? `${child}'s game` : "the game"} and keep it closed until tomorrow?`)) return;
    perform(lock, feedback, async () => {
      const result = await call("FORCE_CLOSE", { until: "tomorrow", ...(child ? { child } : {}) });
      await load();
      return `${child || "Every child"} locked until ${new Date(result.closed_until).toLocaleString()}.`;
    });
  });
  lockChild.addEventListener("change", () => (lockChild.dataset.chosen = "yes"));
  onChange(["monitoring", "hold"], load);
  onLive(load);
  every(WHILE_PLAYING_MS, () => playing && load());
}
