// The dashboard: finds out what the backend serves, then mounts a panel per part.

import { createApi } from "./api.js";
import { Connection } from "./connection.js";
import { say, sayError } from "./forms.js";
import { takeToken } from "./session.js";
import { hideDenied, route, showApps } from "./views.js";
import * as status from "./panels/status.js";
import * as events from "./panels/events.js";
import * as operations from "./panels/operations.js";
import * as commandConsole from "./panels/console.js";
import * as accounts from "./panels/accounts.js";
import * as prompts from "./panels/prompts.js";
import * as queues from "./panels/queues.js";
import * as history from "./panels/history.js";
import * as downloads from "./panels/downloads.js";
import * as clips from "./panels/clips.js";
import * as pageCheck from "./panels/pagecheck.js";
import * as game from "./panels/game.js";
import * as usage from "./panels/usage.js";
import * as hours from "./panels/hours.js";
import * as alerts from "./panels/alerts.js";
import * as diag from "./panels/diag.js";

/** How many past events the stream shows when the page opens. */
const BACKLOG = 200;

/** Each panel, and the app it needs (null: every backend has it). */
const PANELS = [
  [null, status], [null, events], [null, operations], [null, commandConsole],
  ["studio", accounts], ["studio", prompts], ["studio", queues], ["studio", history], ["studio", clips],
  ["studio", pageCheck], ["studio", downloads],
  ["guardian", game], ["guardian", usage], ["guardian", hours], ["guardian", alerts],
  ["diag", diag],
];

const problem = document.getElementById("problem");

/** A panel's failure (a command refused, the backend gone) is said in the problem line. */
function report(outcome) {
  Promise.resolve(outcome).catch((error) => sayError(problem, error));
}

async function boot() {
  const token = takeToken(); // null when the server runs without authentication (--no-auth)
  const { call, send, status } = createApi(token);
  const [version, schema, head, served] = await Promise.all([
    call("GET_VERSION"),
    call("GET_SCHEMA"),
    call("GET_EVENTS", { after: 0, limit: 1 }),
    status(),
  ]);
  const apps = Object.keys(version.apps);
  const connection = new Connection(token, { epoch: head.epoch, after: Math.max(0, head.head - BACKLOG) });
  const onEvent = (fn, { catchUp = false } = {}) => {
    connection.addEventListener("event", (event) => {
      if (catchUp || connection.state === "live") report(fn(event.detail));
    });
  };
  const context = {
    call,
    send,
    schema,
    apps,
    connection,
    /** Panels tell each other here ("accounts": the account lists were refilled). */
    bus: new EventTarget(),
    /** `fn(detail)` each time the stream is caught up: the moment to (re)load state. */
    onLive(fn) {
      connection.addEventListener("live", (event) => report(fn(event.detail)));
    },
    /** `fn(event)` for events that arrive live; with `catchUp`, for missed ones too. */
    onEvent,
    /**
     * `fn(event)` for each live STATE_CHANGED event about one of `resources` (docs/protocol.md): another
     * client (a second page, the CLI, an Electron window) changed what a panel shows. Missed ones need
     * nothing: the panels reload everything once the stream is caught up.
     */
    onChange(resources, fn) {
      const wanted = new Set(resources);
      onEvent((event) => (event.type === "STATE_CHANGED" && wanted.has(event.resource) ? fn(event) : null));
    },
    /** `fn()` every `ms` while the stream is live (for what changes without events). */
    every(ms, fn) {
      setInterval(() => connection.state === "live" && report(fn()), ms);
    },
  };
  connection.addEventListener("live", () => say(problem, "")); // before the panels reload: they may say why not
  showApps(apps);
  hideDenied(served.denied || []);
  route(apps);
  for (const [app, panel] of PANELS) {
    if (app === null || apps.includes(app)) panel.mount(context);
  }
  document.getElementById("demo").hidden = !version.demo;
  document.title = `${version.demo ? "DEMO · " : ""}deskbridge · ${apps.join(", ")}`;
  connection.open();
}

boot().catch((error) => sayError(problem, error));
