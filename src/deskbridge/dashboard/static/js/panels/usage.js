// Play time per child: today against the day's limit (a meter), the week up to today (a small chart);
// grant bonus time, set the daily limit.

import { bar, fill, fillSelect, h, minutes, setBar } from "../dom.js";
import { onSubmit, perform } from "../forms.js";
import { reloader } from "../reload.js";

const REFRESH_MS = 30_000; // minutes played grow without events
const GUARDIAN_EVENTS = new Set(["roblox_event", "session_event", "notification"]);
const BLOCKED = { time_limit_exceeded: "time is up", outside_allowed_hours: "outside the allowed hours" };

function weekday(date) {
  return new Date(`${date}T12:00:00`).toLocaleDateString([], { weekday: "short" });
}

function today(child, day) {
  const allowed = day.limit_minutes + day.bonus_minutes;
  const meter = bar(`Play time of ${child} today`, { role: "meter" });
  const summary = `${minutes(day.minutes_used)} of ${minutes(allowed)}`;
  setBar(meter, day.minutes_used, allowed, summary);
  meter.classList.toggle("over", day.minutes_remaining <= 0);
  const bonus = day.bonus_minutes ? ` (with ${minutes(day.bonus_minutes)} bonus)` : "";
  const left = day.blocked ? `Blocked: ${BLOCKED[day.blocked] ?? day.blocked}.` : `${minutes(day.minutes_remaining)} left.`;
  return h("div", { class: "child" },
    h("p", { class: "line" }, h("strong", {}, child), h("span", {}, `${summary}${bonus}`)),
    meter,
    h("p", { class: "message" }, left),
  ); // prettier-ignore
}

/** The 6 days before today and today, oldest first: GET_USAGE's last_7_days are the days before today. */
function weekOf(data) {
  const before = data.last_7_days.filter((day) => day.date < data.today.date);
  before.sort((a, b) => (a.date < b.date ? -1 : 1));
  return [...before.slice(-6), { date: data.today.date, minutes_used: data.today.minutes_used, today: true }];
}

function week(child, days, limit) {
  const top = Math.max(limit, ...days.map((day) => day.minutes_used), 1);
  const described = days.map((day) => `${weekday(day.date)} ${minutes(day.minutes_used)}`).join(", ");
  return h("figure", { class: "week" },
    h("figcaption", {}, child, h("span", { class: "hint" }, ` · limit ${minutes(limit)}`)),
    h("div", { class: "chart", role: "img", "aria-label": `${child}, last 7 days: ${described}. The limit is ${minutes(limit)}.` },
      days.map((day) => {
        const column = h("div", { class: "column" });
        column.style.height = `${(100 * day.minutes_used) / top}%`;
        column.hidden = day.minutes_used <= 0; // an empty day is empty: no sliver, no full track
        column.classList.toggle("over", day.minutes_used > limit);
        const line = h("div", { class: "limit" });
        line.style.bottom = `${(100 * limit) / top}%`;
        return h("div", { class: day.today ? "day today" : "day", title: `${day.date}: ${minutes(day.minutes_used)}` },
          h("span", { class: "value" }, String(Math.round(day.minutes_used))),
          h("div", { class: "track" }, column, line),
          h("span", { class: "label" }, day.today ? "Today" : weekday(day.date)),
        ); // prettier-ignore
      }),
    ),
  ); // prettier-ignore
}

export function mount({ call, schema, onEvent, onLive, onChange, every }) {
  const limitForm = document.getElementById("limit");
  const limitFeedback = document.getElementById("limit-feedback");
  const usage = document.getElementById("usage");
  const chart = document.getElementById("week");
  const form = document.getElementById("bonus");
  const feedback = document.getElementById("bonus-feedback");

  const load = reloader(async () => {
    const children = Object.entries((await call("GET_USAGE")).children);
    fill(usage, children.map(([child, data]) => today(child, data.today)));
    fill(chart, children.map(([child, data]) => week(child, weekOf(data), data.today.limit_minutes)));
    fillSelect(form.elements.child, children.map(([child]) => child));
    fillSelect(limitForm.elements.child, children.map(([child]) => child));
  });

  onSubmit(form, feedback, async ({ child, minutes: given }) => {
    const granted = await call("GRANT_BONUS_TIME", { child, minutes: Number(given) });
    await load();
    return `Granted ${minutes(granted.granted_minutes)} to ${granted.child_profile}: ${minutes(granted.today.minutes_remaining)} left today.`;
  });
  onSubmit(limitForm, limitFeedback, async ({ child, minutes: limit }) => {
    const set = await call("SET_DAILY_LIMIT", { child, minutes: Number(limit) });
    await load();
    return `${set.child_profile} may play ${minutes(set.daily_limit_minutes)} a day.`;
  });
  const take = document.getElementById("take-time");
  take.hidden = !("TAKE_TIME" in schema.commands);
  take.addEventListener("click", () => {
    if (!form.reportValidity()) return;
    const { child, minutes: taken } = Object.fromEntries(new FormData(form));
    perform(take, feedback, async () => {
      const result = await call("TAKE_TIME", { child, minutes: Number(taken) });
      await load();
      return `Took ${minutes(result.taken_minutes)} from ${result.child_profile}: ${minutes(result.today.minutes_remaining)} left today.`;
    });
  });
  onEvent((event) => GUARDIAN_EVENTS.has(event.type) && load());
  onChange(["limit", "hours", "bonus", "monitoring"], load); // new hours may block or free a child now
  onLive(load);
  every(REFRESH_MS, load);
}
