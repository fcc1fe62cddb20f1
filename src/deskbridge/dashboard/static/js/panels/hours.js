// When each child may play: the windows of every day and of each weekday, as "07:00-08:00, 16:00-20:00";
// set with SET_ALLOWED_HOURS (the parent's), followed through STATE_CHANGED "hours".

import { fillSelect } from "../dom.js";
import { onSubmit } from "../forms.js";
import { reloader } from "../reload.js";

const text = (windows) => (windows ?? []).map((w) => `${w.start}-${w.end}`).join(", ");

function parse(value) {
  return value.split(",").map((part) => part.trim()).filter(Boolean).map((part) => {
    const [start, end] = part.split("-").map((time) => time.trim());
    return { start, end };
  }); // prettier-ignore
}

/** A child's windows as the config in force has them: a single window or a list. */
function everyDay(profile) {
  const hours = profile.allowed_hours;
  return hours === null || hours === undefined ? [] : Array.isArray(hours) ? hours : [hours];
}

export function mount({ call, schema, onChange, onLive }) {
  const form = document.getElementById("hours");
  const feedback = document.getElementById("hours-feedback");
  const now = document.getElementById("hours-now");
  if (!("SET_ALLOWED_HOURS" in schema.commands)) return; // the child's token: no form, no config to read
  let children = {};
  // What the field was last filled with, and for which child and day: a reload (this page's own change, or
  // another window's) must not overwrite what the user has typed since.
  let filled = { key: "", value: "" };
  const fill = (key, value) => {
    const input = form.elements.windows;
    if (key !== filled.key || input.value === filled.value) input.value = value;
    filled = { key, value };
  };

  const show = () => {
    const profile = children[form.elements.child.value];
    if (!profile) return;
    const day = form.elements.weekday.value;
    const own = day ? profile.weekday_allowed_hours[day] : everyDay(profile);
    fill(`${form.elements.child.value} ${day}`, text(own));
    const days = Object.entries(profile.weekday_allowed_hours).map(([name, windows]) => `${name} ${text(windows)}`);
    now.textContent = `${form.elements.child.value}: every day ${text(everyDay(profile)) || "any time"}`
      + (days.length ? `; ${days.join("; ")}` : "") + ".";
  };
  const load = reloader(async () => {
    children = (await call("GET_CONFIG")).children;
    fillSelect(form.elements.child, Object.keys(children));
    show();
  });
  form.elements.child.addEventListener("change", show);
  form.elements.weekday.addEventListener("change", show);
  onSubmit(form, feedback, async ({ child, weekday, windows }) => {
    const set = await call("SET_ALLOWED_HOURS", { child, windows: parse(windows), ...(weekday ? { weekday } : {}) });
    const on = weekday ? ` on ${weekday}` : "";
    const said = text(weekday ? set.weekday_allowed_hours[weekday] : everyDay(set));
    filled = { key: `${child} ${weekday}`, value: windows };
    fill(filled.key, said); // what was sent is stored: the field shows it as the backend writes it
    if (said) return `${set.child_profile} may play${on} from ${said.replaceAll("-", " to ")}.`;
    return weekday ? `${set.child_profile} follows every day's hours${on}.` : `${set.child_profile} may play at any time.`;
  });
  onChange(["hours"], load);
  onLive(load);
}
