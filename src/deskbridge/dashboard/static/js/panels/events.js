// The live event stream, newest first, with a type filter and a text filter.
// Every event is listed, missed ones included; a note marks each (re)connection.
// "Search the log" asks the server's whole log (GET_EVENTS, a page at a time), not only what the page holds.

import { clock, fill, fillSelect, h } from "../dom.js";
import { onSubmit, say } from "../forms.js";

const KEEP = 2000;
const SHOW = 500;
const PAGE = 1000;

function kind(event) {
  if (event.type === "STATE_CHANGED") return `${event.type} · ${event.resource} ${event.change}`;
  return event.event_type ? `${event.type} · ${event.event_type}` : event.type;
}

/** The event's payload (or data); for a flat event (STATE_CHANGED), its fields but those the row shows. */
function details(event) {
  if (event.payload ?? event.data) return JSON.stringify(event.payload ?? event.data);
  const { type, seq, timestamp, resource, change, ...fields } = event;
  return JSON.stringify(fields);
}

function note(detail) {
  if (detail.first) return `Connected${detail.caught_up ? `: the ${detail.caught_up} latest events are above` : ""}; new ones appear as they come.`;
  if (!detail.recovered) return "Reconnected, but the backend's log no longer holds everything missed: the panels were reloaded.";
  const missed = detail.caught_up;
  return `Reconnected after seq ${detail.after}: ${missed} missed event${missed === 1 ? "" : "s"} caught up.`;
}

export function mount({ call, schema, onEvent, onLive }) {
  const form = document.getElementById("events-filter");
  const searched = document.getElementById("events-searched");
  let found = null; // the matches of a search of the server's log, while they are shown
  const body = document.querySelector("#event-list tbody");
  const count = document.getElementById("events-count");
  const types = new Set(schema.events);
  let items = []; // {event} or {note}, oldest first

  const wanted = () => {
    const type = form.elements.type.value;
    const text = form.elements.text.value.trim().toLowerCase();
    return (item) => {
      if (item.note) return !type && !text;
      if (type && item.event.type !== type) return false;
      return !text || JSON.stringify(item.event).toLowerCase().includes(text);
    };
  };

  const line = (item) => {
    if (item.note) return h("tr", { class: "note" }, h("td", { colspan: 4 }, item.note));
    const { event } = item;
    return h("tr", { "data-seq": event.seq },
      h("td", { class: "num" }, String(event.seq)),
      h("td", {}, event.timestamp ? clock(event.timestamp) : ""),
      h("td", {}, kind(event)),
      h("td", { class: "details" }, details(event)),
    ); // prettier-ignore
  };

  const counted = () => {
    if (found) return;
    const total = items.filter((item) => item.event).length;
    const shown = body.querySelectorAll("tr[data-seq]").length;
    count.textContent = shown === total ? `${total} events` : `Showing ${shown} of ${total} events`;
  };

  const render = () => {
    found = null;
    say(searched, "");
    const keep = wanted();
    fill(body, items.filter(keep).slice(-SHOW).reverse().map(line));
    counted();
  };

  const add = (item) => {
    items.push(item);
    if (items.length > KEEP) items = items.slice(-KEEP);
    if (!found && wanted()(item)) {
      body.prepend(line(item));
      while (body.rows.length > SHOW) body.lastElementChild.remove();
    }
    counted();
  };

  onEvent((event) => {
    if (!types.has(event.type)) {
      types.add(event.type);
      fillSelect(form.elements.type, [...types].sort(), "All types");
    }
    add({ event });
  }, { catchUp: true });
  onLive((detail) => add({ note: note(detail) }));

  fillSelect(form.elements.type, [...types].sort(), "All types");
  form.addEventListener("input", render);
  /** Every page of the server's log, oldest first; the last SHOW matches are kept, newest shown first. */
  const searchLog = async () => {
    const keep = wanted();
    let after = 0;
    let scanned = 0;
    let matches = [];
    for (;;) {
      const page = await call("GET_EVENTS", { after, limit: PAGE });
      scanned += page.events.length;
      matches = matches.concat(page.events.filter((event) => keep({ event }))).slice(-SHOW);
      say(searched, `Searching the server's log… ${scanned} events read.`);
      if (!page.more || page.events.length === 0) break;
      after = page.last_seq;
    }
    found = matches;
    fill(body, matches.slice().reverse().map((event) => line({ event })));
    count.textContent = `${matches.length === SHOW ? `The last ${SHOW}` : matches.length} matching events of the ${scanned} in the server's log.`;
    return `Searched the server's whole log (${scanned} events). Change the filter to see the live list again.`;
  };
  onSubmit(form, searched, searchLog);
  document.getElementById("events-clear").addEventListener("click", () => {
    items = [];
    render();
  });
}
