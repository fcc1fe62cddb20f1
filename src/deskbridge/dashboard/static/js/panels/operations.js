// Operations: a bar each that moves with its progress events, a cancel button while it runs.
// Any event carrying payload.operation_id of an operation this backend runs counts
// (a queue's QUEUE_PROGRESS carries the queue's id: GET_OPERATION says it is not one).
// A notice about an operation (the seed's WARNING_UPDATE and ERROR_UPDATE) carries no status: it is listed
// under the operation, and its state stays what the last status said. Notices are kept from the events the
// stream catches up on too (after a drop, and the backlog a page opens with), since LIST_OPERATIONS, which
// the list is rebuilt from once live, carries none.

import { bar, fill, h, setBar, short, showEmpty } from "../dom.js";
import { perform } from "../forms.js";
import { FINISHED } from "../statuses.js";

const KEEP_FINISHED = 10;

/** "4 of 6" from the counters an operation reports (completed and total), never from a clip's position. */
function counted(state) {
  return typeof state.completed === "number" && typeof state.total === "number" ? `${state.completed} of ${state.total}` : "";
}

function percent(state) {
  if (typeof state.progress === "number") return state.progress;
  if (typeof state.current === "number" && state.total > 0) return (100 * state.current) / state.total;
  return null;
}

/** "NO_COVER: Keep Me was saved without its cover: ...", from a WARNING_UPDATE or an ERROR_UPDATE. */
function noticeItem(payload) {
  return h("li", {}, [payload.warning_code || payload.error_code, payload.message || payload.error].filter(Boolean).join(": "));
}

export function mount({ call, connection, onEvent, onLive }) {
  const running = document.getElementById("operations-running");
  const finished = document.getElementById("operations-finished");
  const empty = document.getElementById("operations-empty");
  const noneFinished = document.getElementById("operations-none-finished");
  const shown = new Map(); // operation_id -> {element, bar, status, message, notices, cancel}
  const lookups = new Map(); // operation_id -> the last event that came while GET_OPERATION was asked (or null)
  const notOperations = new Set();
  const notices = new Map(); // operation_id -> its notices, live or caught up: a rebuilt list shows them again

  const noteEmpty = () => {
    showEmpty(empty, running.children.length === 0);
    showEmpty(noneFinished, finished.children.length === 0);
  };

  const place = (id, status) => {
    const view = shown.get(id);
    if (FINISHED.has(status)) {
      view.cancel.remove();
      finished.prepend(view.element);
      while (finished.children.length > KEEP_FINISHED) {
        shown.delete(finished.lastElementChild.dataset.operation);
        notices.delete(finished.lastElementChild.dataset.operation);
        finished.lastElementChild.remove();
      }
    } else if (view.element.parentElement !== running) {
      running.append(view.element);
    }
    noteEmpty();
  };

  const update = (id, status, state, error) => {
    const view = shown.get(id);
    const value = status === "completed" ? 100 : percent(state);
    const count = counted(state);
    const words = [value === null ? status : `${Math.round(value)}%`, count && `${count} done`].filter(Boolean).join(", ");
    setBar(view.bar, value, 100, state.message ? `${words}, ${state.message}` : words);
    view.element.dataset.status = status;
    view.status.textContent = status.replace("_", " ");
    view.count.textContent = count && `${count} done`;
    view.message.textContent = error ? `${error.error} (${error.error_code})` : state.message || "";
    place(id, status);
  };

  const show = (operation) => {
    const id = operation.operation_id;
    const name = `${operation.command} ${short(id)}`;
    const view = {
      bar: bar(`${name} progress`),
      status: h("span", { class: "status" }),
      count: h("span", { class: "count" }),
      message: h("p", { class: "message" }),
      notices: h("ul", { class: "notices", "aria-label": `${name} notices` }),
    };
    view.cancel = h("button", {
      type: "button",
      "aria-label": `Cancel ${name}`,
      // its terminal event says "cancelled" (it may even arrive before this answer)
      onclick: () => perform(view.cancel, view.message, () => call("CANCEL_OPERATION", { operation_id: id })),
    }, "Cancel"); // prettier-ignore
    view.element = h("li", { class: "operation", "data-operation": id },
      h("div", { class: "line" }, h("strong", {}, operation.command), h("code", {}, short(id)), view.status, view.count, view.cancel),
      view.bar,
      view.message,
      view.notices,
    ); // prettier-ignore
    shown.set(id, view);
    view.notices.append(...(notices.get(id) || []).map(noticeItem));
    update(id, operation.status, operation.state, operation.error);
  };

  const learn = async (id) => {
    lookups.set(id, null);
    try {
      const operation = await call("GET_OPERATION", { operation_id: id });
      show(operation);
      // An event that came meanwhile may be newer than the answer (its end, most of all): never older than an end.
      const later = lookups.get(id);
      if (later && !FINISHED.has(shown.get(id).element.dataset.status)) update(id, later.status, later, later.error ? later : null);
    } catch (error) {
      if (error.code !== "OPERATION_NOT_FOUND") throw error;
      notOperations.add(id);
      notices.delete(id);
    } finally {
      lookups.delete(id);
    }
  };

  const notice = (id, payload) => {
    notices.set(id, [...(notices.get(id) || []), payload]);
    const view = shown.get(id);
    if (view) view.notices.append(noticeItem(payload));
    // caught up: the list is rebuilt once live, and shows it then if its operation is listed
    if (view || lookups.has(id) || connection.state !== "live") return null;
    return learn(id);
  };

  onEvent((event) => {
    const payload = event.payload;
    const id = payload?.operation_id;
    if (event.id !== "progress-event" || !id || notOperations.has(id)) return null;
    if (typeof payload.status !== "string") return notice(id, payload);
    if (connection.state !== "live") return null; // the state comes whole from LIST_OPERATIONS once live
    if (lookups.has(id)) {
      lookups.set(id, payload);
      return null;
    }
    if (!shown.has(id)) return learn(id);
    update(id, payload.status, payload, payload.error ? payload : null);
    return null;
  }, { catchUp: true });

  onLive(async () => {
    const operations = await call("LIST_OPERATIONS", {});
    shown.clear();
    fill(running);
    fill(finished);
    const done = operations.filter((operation) => FINISHED.has(operation.status)).slice(-KEEP_FINISHED);
    for (const operation of [...done, ...operations.filter((operation) => !FINISHED.has(operation.status))]) {
      show(operation);
    }
    for (const id of notices.keys()) if (!shown.has(id)) notices.delete(id); // of operations no longer listed
    noteEmpty();
  });
}
