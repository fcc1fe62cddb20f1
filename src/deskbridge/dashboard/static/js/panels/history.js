// Creation history: newest first, full-text search, one account or all, export to a CSV file.

import { fill, row } from "../dom.js";
import { onSubmit, perform, say } from "../forms.js";
import { reloader } from "../reload.js";

const PAGE = 50;

export function mount({ call, onLive, onChange }) {
  const search = document.getElementById("history-search");
  const feedback = document.getElementById("history-feedback");
  const body = document.querySelector("#history tbody");
  const more = document.getElementById("history-more");
  const exporter = document.getElementById("history-export");
  const exported = document.getElementById("export-feedback");
  let shown = 0;
  let next = null; // the cursor of the page after those shown

  /** One page of records, after `cursor` (null: the first), for the search form's current question. */
  const page = (cursor) => {
    const { keyword, account_name } = Object.fromEntries(new FormData(search));
    const payload = { limit: PAGE, ...(cursor ? { cursor } : {}), ...(account_name ? { account_name } : {}) };
    return keyword.trim()
      ? call("SEARCH_HISTORY", { ...payload, keyword: keyword.trim() })
      : call("GET_CREATION_HISTORY", payload);
  };

  const show = (result, append) => {
    const lines = result.items.map((record) =>
      row(record.created_at, record.title || "(untitled)", record.account_name, record.status, record.style),
    );
    if (append) body.append(...lines);
    else fill(body, lines);
    shown = (append ? shown : 0) + result.items.length;
    next = result.next_cursor;
    more.hidden = !result.has_more;
    if (shown === 0) return "No song matches.";
    return result.has_more ? `${shown} songs shown; more below.` : `${shown} songs.`;
  };

  const load = reloader(async () => say(feedback, show(await page(null), false)));

  onSubmit(search, feedback, async () => show(await page(null), false));
  search.elements.account_name.addEventListener("change", () => search.requestSubmit());
  more.addEventListener("click", () => perform(more, feedback, async () => show(await page(next), true)));

  onSubmit(exporter, exported, async ({ output_path, overwrite }) => {
    const account_name = search.elements.account_name.value;
    const result = await call("EXPORT_HISTORY_TO_CSV", {
      output_path,
      overwrite: overwrite === "on",
      ...(account_name ? { account_name } : {}),
    });
    return `Wrote ${result.rows} songs${account_name ? ` of ${account_name}` : ""} to ${result.output_path}.`;
  });

  // each record written (by a command or a running queue) raises STATE_CHANGED "creation_history"
  onChange(["creation_history", "account"], load);
  onLive(load);
}
