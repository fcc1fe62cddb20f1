// Clips: fetch an account's clips from Suno, pick which to download (new ones are ticked), download them.
// The download runs as an operation (its bar under Operations); the allowance it plans to spend and did spend is
// shown here, and the Downloaded column follows the download history as each clip is recorded.

import { fill, h, row } from "../dom.js";
import { onSubmit, say } from "../forms.js";

const DOWNLOADED = "downloaded already";

/** "2 clips need one of Suno's downloads (5 left of 20); 0 will be authorized": the plan, or what was spent. */
function allowanceText({ needed, will_authorize: will, authorized, remaining, limit }) {
  if (!needed) return "No clip needs one of Suno's downloads.";
  const left = remaining === null ? "unknown left" : `${remaining} left${limit === null ? "" : ` of ${limit}`}`;
  const spent = authorized === undefined ? `${will} will be authorized` : `${authorized} authorized`;
  return `${needed} clip${needed === 1 ? "" : "s"} need${needed === 1 ? "s" : ""} one of Suno's downloads (${left}); ${spent}.`;
}

export function mount({ call, onEvent, onChange }) {
  const allowance = document.getElementById("clips-allowance");
  const plans = new Map(); // operation_id -> the allowance last told (an event may come before the answer)
  let watched = null;
  const fetcher = document.getElementById("clips-fetch");
  const picker = document.getElementById("clips-download");
  const feedback = document.getElementById("clips-feedback");
  const body = document.querySelector("#clips tbody");
  let fetched = { account_name: "", clips: [] };

  const line = (clip, isNew) => {
    const title = clip.title || clip.id;
    const box = h("input", { type: "checkbox", name: "clip", value: clip.id, checked: isNew,
                             "aria-label": `Download ${title}` }); // prettier-ignore
    const tr = row(box, title, clip.status ?? "", isNew ? "new" : DOWNLOADED);
    tr.dataset.clip = clip.id;
    return tr;
  };

  onSubmit(fetcher, feedback, async ({ account_name, source }) => {
    const answer = await call("FETCH_CLIPS", { account_name, [source]: true });
    const fresh = await call("GET_NEW_CLIPS", { account_name, all_clips: answer.clips });
    const isNew = new Set(fresh.map((clip) => clip.id));
    fetched = { account_name, clips: answer.clips };
    fill(body, answer.clips.map((clip) => line(clip, isNew.has(clip.id))));
    picker.hidden = answer.clips.length === 0;
    return `${answer.total} clips of ${account_name}, ${isNew.size} not downloaded yet.`;
  });

  onSubmit(picker, feedback, async ({ output_dir, format, authorize }) => {
    const chosen = new Set([...body.querySelectorAll("input[name=clip]:checked")].map((box) => box.value));
    const clips = fetched.clips.filter((clip) => chosen.has(clip.id));
    if (clips.length === 0) throw new Error("Tick the clips to download first.");
    // authorize is always said: unticked is false, never the config's default
    const payload = { account_name: fetched.account_name, clips, output_dir, authorize: authorize === "yes" };
    if (format) payload.format = format;
    say(allowance, "");
    const started = await call("BATCH_DOWNLOAD", payload);
    watched = started.operation_id;
    if (plans.has(watched)) say(allowance, allowanceText(plans.get(watched)));
    return `Downloading ${clips.length} clip${clips.length === 1 ? "" : "s"} as ${started.format} to ${output_dir} (operation ${started.operation_id.slice(0, 8)}, under Operations).`;
  });

  onEvent((event) => {
    if (event.type !== "BATCH_DOWNLOAD_PROGRESS") return;
    const payload = event.payload ?? {};
    // the end's (what was spent) over the plan the operation's state still carries
    const told = payload.result?.allowance ?? payload.details?.allowance ?? payload.allowance;
    if (!told) return;
    plans.set(payload.operation_id, told);
    if (payload.operation_id === watched) say(allowance, allowanceText(told));
  });

  // the Downloaded column follows the history: each clip recorded (by this download or any other client)
  onChange(["download_history"], async (event) => {
    if (event.id !== fetched.account_name || fetched.clips.length === 0) return;
    const fresh = new Set((await call("GET_NEW_CLIPS", { account_name: fetched.account_name, all_clips: fetched.clips })).map((c) => c.id));
    for (const line of body.rows) {
      const isNew = fresh.has(line.dataset.clip);
      line.cells[3].textContent = isNew ? "new" : DOWNLOADED;
      if (!isNew) line.querySelector("input").checked = false;
    }
  });
  say(feedback, "");
}
