// Warnings and notifications of the guardian, newest first (missed ones included).

import { clock, h, minutes, showEmpty } from "../dom.js";

const KEEP = 50;
const REASONS = { time_limit_exceeded: "the time limit was reached", outside_allowed_hours: "outside the allowed hours" };

/** What an event tells a parent, or null when it is not a warning or a notification. */
function text(event) {
  const data = event.data ?? {};
  if (event.type === "notification") return [data.title, data.message].filter(Boolean).join(": ");
  if (event.event_type === "time_limit_warning") {
    return `${data.session_data?.child_profile ?? "The child"} has ${minutes(data.minutes_remaining ?? 0)} left today.`;
  }
  if (event.event_type === "roblox_auto_closed") return `The game was closed: ${REASONS[data.reason] ?? data.reason}.`;
  return null;
}

export function mount({ onEvent }) {
  const list = document.getElementById("alerts");
  const empty = document.getElementById("alerts-empty");
  onEvent((event) => {
    const said = text(event);
    if (!said) return;
    const kind = event.type === "notification" ? "notification" : "warning";
    list.prepend(h("li", { class: kind }, h("time", {}, clock(event.timestamp)), " ", said));
    while (list.children.length > KEEP) list.lastElementChild.remove();
    showEmpty(empty, false);
  }, { catchUp: true });
}
