// The prompt library: how many prompts are available, reserved by queues, used; add prompts typed or
// pasted (one a line), or import a file. Prompts longer than Suno takes are stored, but said at once:
// no queue uses them until they are shortened (or the limit raised in the config).

import { fill, h, row } from "../dom.js";
import { onSubmit, perform } from "../forms.js";
import { reloader } from "../reload.js";

const STATUSES = ["available", "reserved", "used"];
const NEXT = 5;

export function mount({ call, onEvent, onLive, onChange }) {
  const adder = document.getElementById("prompts-add");
  const counts = document.getElementById("prompt-counts");
  const form = document.getElementById("prompts-import");
  const feedback = document.getElementById("prompts-feedback");
  const body = document.querySelector("#prompts tbody");

  const load = reloader(async () => {
    const [next, ...pages] = await Promise.all([
      call("GET_PROMPTS", { status: "available", limit: NEXT }),
      ...STATUSES.map((status) => call("GET_PROMPTS", { status, limit: 1 })),
    ]);
    fill(counts, STATUSES.flatMap((status, i) => [h("dt", {}, status), h("dd", {}, String(pages[i].total))]));
    fill(body, next.items.map((prompt) => row(
      String(prompt.prompt_id),
      prompt.title || "(untitled)",
      prompt.style,
      prompt.too_long.length ? `${prompt.status}, too long: ${prompt.too_long.join(", ")}` : prompt.status,
      h("button", {
        type: "button",
        "aria-label": `Delete prompt ${prompt.prompt_id}`,
        onclick: (event) => perform(event.currentTarget, feedback, async () => {
          await call("DELETE_PROMPT", { prompt_id: prompt.prompt_id });
          await load();
          return `Deleted prompt ${prompt.prompt_id}.`;
        }),
      }, "Delete"),
    ))); // prettier-ignore
  });

  onSubmit(form, feedback, async ({ path, format }) => {
    const added = await call("IMPORT_PROMPTS", format ? { path, format } : { path });
    await load();
    return withTooLong(`Imported ${added.added} prompts; ${added.available} are available.`, added);
  });
  onSubmit(adder, feedback, async ({ text }) => {
    const prompts = parsePrompts(text);
    if (prompts.length === 0) throw new Error("Write one prompt a line: a style, or title | style | tags.");
    const added = await call("ADD_PROMPTS", { prompts });
    adder.reset();
    await load();
    return withTooLong(`Added ${added.added} prompt${added.added === 1 ? "" : "s"}; ${added.available} are available.`, added);
  });
  onEvent((event) => event.type === "QUEUE_PROGRESS" && load());
  onChange(["prompts", "queue", "account"], load);
  onLive(load);
}

/** The feedback of ADD_PROMPTS or IMPORT_PROMPTS: a warning naming the prompts just added that Suno would refuse. */
function withTooLong(done, added) {
  if (added.too_long === 0) return done;
  const named = added.too_long_prompts.map((p) => `#${p.prompt_id} ${p.over.map((o) => o.message).join(", ")}`);
  const more = added.too_long - named.length;
  const which = added.too_long === 1 ? "1 is longer than Suno takes; no queue uses it" : `${added.too_long} are longer than Suno takes; no queue uses them`;
  const list = named.join("; ") + (more > 0 ? `; and ${more} more` : "");
  return { message: `${done} ${which} until shortened: ${list}.`, warning: true };
}

/** One prompt a line: "style", or "title | style", or "title | style | tag, tag" (blank lines skipped). */
function parsePrompts(text) {
  return text
    .split(/\r?\n/)
    .map((line) => line.split("|").map((part) => part.trim()))
    .filter((parts) => parts.some(Boolean))
    .map((parts) => {
      if (parts.length === 1) return { style: parts[0] };
      const [title, style, tags = ""] = parts;
      return { title, style, tags: tags.split(",").map((tag) => tag.trim()).filter(Boolean) };
    });
}
