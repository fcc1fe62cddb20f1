// Clips: fetch an account's clips from Suno, pick which to download (new ones are ticked), download them.
// The download runs as an operation (its bar under Operations); the download history follows its end.

import { fill, h, row } from "../dom.js";
import { onSubmit, say } from "../forms.js";

export function mount({ call }) {
  const fetcher = document.getElementById("clips-fetch");
  const picker = document.getElementById("clips-download");
  const feedback = document.getElementById("clips-feedback");
  const body = document.querySelector("#clips tbody");
  let fetched = { account_name: "", clips: [] };

  const line = (clip, isNew) => {
    const title = clip.title || clip.id;
    const box = h("input", { type: "checkbox", name: "clip", value: clip.id, checked: isNew,
                             "aria-label": `Download ${title}` }); // prettier-ignore
    return row(box, title, clip.status ?? "", isNew ? "new" : "downloaded already");
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

  onSubmit(picker, feedback, async ({ output_dir }) => {
    const chosen = new Set([...body.querySelectorAll("input[name=clip]:checked")].map((box) => box.value));
    const clips = fetched.clips.filter((clip) => chosen.has(clip.id));
    if (clips.length === 0) throw new Error("Tick the clips to download first.");
    const started = await call("BATCH_DOWNLOAD", { account_name: fetched.account_name, clips, output_dir });
    return `Downloading ${clips.length} clip${clips.length === 1 ? "" : "s"} to ${output_dir} (operation ${started.operation_id.slice(0, 8)}, under Operations).`;
  });
  say(feedback, "");
}
