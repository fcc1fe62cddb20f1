// Downloads: which clips an account has downloaded (newest first); forget them to download again.

import { fill, row } from "../dom.js";
import { perform, say } from "../forms.js";
import { reloader } from "../reload.js";

export function mount({ call, bus, onChange }) {
  const select = document.querySelector("#downloads-filter select");
  const clear = document.getElementById("downloads-clear");
  const feedback = document.getElementById("downloads-feedback");
  const body = document.querySelector("#downloads tbody");

  const load = reloader(async () => {
    const account_name = select.value;
    clear.hidden = !account_name;
    if (!account_name) {
      fill(body);
      say(feedback, "Downloads are kept per account: create one first.");
      return;
    }
    const page = await call("GET_DOWNLOAD_HISTORY", { account_name, limit: 100 });
    fill(body, page.items.map((download) => row(download.downloaded_at, download.title, download.clip_id, download.file_path ?? "")));
    const count = `${page.items.length}${page.has_more ? " most recent" : ""}`;
    say(feedback, page.items.length === 0 ? `${account_name} has downloaded nothing yet.` : `${count} clips downloaded by ${account_name}.`);
  });

  clear.addEventListener("click", () => {
    const account_name = select.value;
    if (!confirm(`Forget every clip ${account_name} downloaded? They will count as new again.`)) return;
    perform(clear, feedback, async () => {
      const result = await call("CLEAR_DOWNLOAD_HISTORY", { account_name });
      await load();
      return `Forgot ${result.cleared} downloads of ${account_name}.`;
    });
  });
  select.addEventListener("change", load);
  bus.addEventListener("accounts", load); // the accounts panel filled the select (after each reload)
  // each clip recorded (by a command or a running download) raises STATE_CHANGED "download_history"
  onChange(["download_history"], (event) => event.id === select.value && load());
}
