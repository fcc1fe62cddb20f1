// Try it (diag): start a counting operation, emit events.

import { short } from "../dom.js";
import { onSubmit } from "../forms.js";

export function mount({ call }) {
  const feedback = document.getElementById("diag-feedback");
  onSubmit(document.getElementById("diag-count"), feedback, async ({ to, interval }) => {
    const started = await call("COUNT", { to: Number(to), interval: Number(interval) });
    return `Started COUNT ${short(started.operation_id)}: its bar is under Running.`;
  });
  onSubmit(document.getElementById("diag-emit"), feedback, async ({ count }) => {
    const emitted = await call("EMIT", { count: Number(count) });
    return `Emitted ${emitted.emitted} events: see Events.`;
  });
}
