// Queues: one bar each, moved by QUEUE_PROGRESS events as they arrive; start a queue, cancel its run.

import { bar, fill, h, setBar, short, showEmpty } from "../dom.js";
import { onSubmit, perform } from "../forms.js";
import { everything } from "../listing.js";
import { reloader } from "../reload.js";
import { FINISHED } from "../statuses.js";

const RUNNABLE = new Set(["pending", "in_progress"]);

export function mount({ call, onEvent, onLive, onChange }) {
  const form = document.getElementById("queue-create");
  const feedback = document.getElementById("queues-feedback");
  const list = document.getElementById("queues");
  const empty = document.getElementById("queues-empty");
  const shown = new Map(); // queue_id -> {element, account, bar, status, count, message}
  const runs = new Map(); // queue_id -> the operation running it (started here, or seen in its events)

  /** Show a queue's numbers: from GET_QUEUES (completed_count) or a QUEUE_PROGRESS event (completed). */
  const update = (view, { status, completed, total, progress, message }) => {
    view.element.dataset.status = status;
    view.status.textContent = status.replace("_", " ");
    view.count.textContent = `${completed} of ${total} songs`;
    setBar(view.bar, progress, 100, `${progress}%, ${completed} of ${total} songs, ${status.replace("_", " ")}`);
    view.message.textContent = message;
  };

  const show = (queue) => {
    const id = queue.queue_id;
    const name = `queue ${short(id)} of ${queue.account_name}`;
    const view = {
      account: queue.account_name,
      bar: bar(`Progress of ${name}`),
      status: h("span", { class: "status" }),
      count: h("span", {}),
      message: h("p", { class: "message" }),
    };
    const remove = h("button", {
      type: "button",
      "aria-label": `Remove ${name}`,
      onclick: (event) => perform(event.currentTarget, feedback, async () => {
        const removed = await call("REMOVE_QUEUE", { queue_id: id });
        await load();
        return `Removed ${name}; ${removed.released_prompts} prompts went back to the library.`;
      }),
    }, "Remove"); // prettier-ignore
    const start = h("button", {
      type: "button",
      "aria-label": `Start ${name}`,
      onclick: (event) => perform(event.currentTarget, feedback, async () => {
        const started = await call("START_QUEUE_EXECUTION", { queue_ids: [id] });
        runs.set(id, started.operation_id);
        await load();
        return `Started ${name}: its batches show below and under Operations.`;
      }),
    }, "Start"); // prettier-ignore
    const cancel = h("button", {
      type: "button",
      "aria-label": `Cancel the run of ${name}`,
      onclick: (event) => perform(event.currentTarget, feedback, async () => {
        await call("CANCEL_OPERATION", { operation_id: runs.get(id) });
        runs.delete(id);
        await load();
        return `Cancelled the run of ${name}; its count is kept, Start resumes it.`;
      }),
    }, "Cancel"); // prettier-ignore
    const running = runs.has(id);
    view.element = h("li", { class: "queue" },
      h("div", { class: "line" }, h("strong", {}, queue.account_name), h("code", {}, short(id)), view.status, view.count,
        h("span", { class: "actions" }, running ? cancel : (RUNNABLE.has(queue.status) ? start : null), remove)),
      view.bar,
      view.message,
    ); // prettier-ignore
    update(view, { ...queue, completed: queue.completed_count, total: queue.total_songs });
    shown.set(id, view);
    return view.element;
  };

  const load = reloader(async () => {
    const queues = await everything(call, "GET_QUEUES");
    shown.clear();
    fill(list, queues.map(show));
    showEmpty(empty, queues.length === 0);
  });

  onEvent((event) => {
    if (event.type !== "QUEUE_PROGRESS") return null;
    const { operation_id: run, queue_id: queueId, status } = event.payload;
    if (run && run !== queueId) {
      // An event of a run (START_QUEUE_EXECUTION): which queue it runs, or that it ended.
      if (FINISHED.has(status)) {
        for (const [queue, operation] of runs) if (operation === run) runs.delete(queue);
        return load();
      }
      if (queueId && !runs.has(queueId)) {
        runs.set(queueId, run);
        return load();
      }
    }
    const view = shown.get(event.payload.queue_id);
    if (event.payload.change === "updated" && view && view.account === event.payload.account_name) {
      update(view, event.payload);
      return null;
    }
    return load(); // created, removed, or its account renamed
  });

  onSubmit(form, feedback, async ({ account_name, total_songs, songs_per_batch }) => {
    const queue = await call("CREATE_QUEUE", {
      account_name,
      total_songs: Number(total_songs),
      songs_per_batch: Number(songs_per_batch),
    });
    await load();
    return `Created a queue of ${queue.total_songs} songs for ${queue.account_name}.`;
  });
  onChange(["queue", "account"], load);
  onLive(load);
}
