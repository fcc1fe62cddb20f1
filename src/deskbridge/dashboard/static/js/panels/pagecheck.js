// Create page: does Suno's page still have every control the studio needs? (CHECK_CREATE_PAGE)

import { fill, row } from "../dom.js";
import { onSubmit } from "../forms.js";

export function mount({ call }) {
  const form = document.getElementById("page-check");
  const feedback = document.getElementById("page-check-feedback");
  const body = document.querySelector("#page-check-table tbody");

  onSubmit(form, feedback, async ({ account_name }) => {
    fill(body);
    const check = await call("CHECK_CREATE_PAGE", { account_name });
    fill(body, check.controls.map((control) =>
      row(control.control, control.found ? "found" : "missing", control.found ? control.selector : control.tried.join(" · ")),
    ));
    if (check.error) return check.error;
    return check.ok
      ? `Every control was found on ${check.url}.`
      : `Missing on ${check.url}: ${check.missing.join(", ")}. Give them a new way in studio.suno.create_page.controls.`;
  });
}
