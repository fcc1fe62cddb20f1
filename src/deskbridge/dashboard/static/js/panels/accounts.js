// Accounts: create, rename, delete, open (and close) the browser of one, check its Suno session.
// The list is shared: every <select data-accounts> on the page offers the account names.

import { fill, fillSelect, h, row, showEmpty } from "../dom.js";
import { onSubmit, perform } from "../forms.js";
import { everything } from "../listing.js";
import { reloader } from "../reload.js";

export function mount({ call, schema, bus, onLive, onChange }) {
  const form = document.getElementById("account-create");
  const feedback = document.getElementById("accounts-feedback");
  const body = document.querySelector("#accounts tbody");
  const empty = document.getElementById("accounts-empty");
  const can = (command) => command in schema.commands;
  const sessions = new Map(); // account name -> the last VERIFY_SESSION answer, from any client

  const load = reloader(async () => {
    const accounts = await everything(call, "GET_ACCOUNTS");
    fill(body, accounts.map(line));
    showEmpty(empty, accounts.length === 0);
    const names = accounts.map((account) => account.name);
    for (const select of document.querySelectorAll("select[data-accounts]")) {
      fillSelect(select, names, select.dataset.all ?? null);
    }
    bus.dispatchEvent(new Event("accounts"));
  });

  const act = (button, action) => perform(button, feedback, async () => {
    const message = await action();
    await load();
    return message;
  }); // prettier-ignore

  /** Keyboard users land back on the account's Rename button once the list is redrawn. */
  const focusRename = (name) => body.querySelector(`button[aria-label="Rename ${CSS.escape(name)}"]`)?.focus();

  const renameForm = (account, cell) => {
    const input = h("input", { name: "new_name", value: account.name, required: true, maxlength: 60,
                              "aria-label": `New name for ${account.name}` }); // prettier-ignore
    const cancel = () => {
      fill(cell, account.name);
      focusRename(account.name);
    };
    const editor = h("form", { class: "inline" }, input, h("button", {}, "Save"),
                     h("button", { type: "button", onclick: cancel }, "Cancel")); // prettier-ignore
    editor.addEventListener("keydown", (event) => event.key === "Escape" && cancel());
    onSubmit(editor, feedback, async ({ new_name }) => {
      const renamed = await call("RENAME_ACCOUNT", { old_name: account.name, new_name });
      await load();
      focusRename(renamed.name);
      return `Renamed ${account.name} to ${renamed.name}.`;
    });
    fill(cell, editor);
    input.select();
  };

  const line = (account) => {
    const name = account.name;
    const nameCell = h("span", {}, name);
    const button = (text, label, onclick, extra = {}) =>
      h("button", { type: "button", "aria-label": `${label} ${name}`, onclick, ...extra }, text);
    const browser = account.profile_locked
      ? can("CLOSE_BROWSER") && button("Close browser", "Close the browser of", (event) =>
          act(event.currentTarget, async () => {
            await call("CLOSE_BROWSER", { account_name: name });
            return `Closed the browser of ${name}.`;
          }))
      : can("LAUNCH_BROWSER") && button("Open browser", "Open the browser for", (event) =>
          act(event.currentTarget, async () => {
            const launched = await call("LAUNCH_BROWSER", { account_name: name });
            return `Opened a browser for ${name} on ${launched.url}${launched.page_error ? ` (${launched.page_error})` : ""}.`;
          })); // prettier-ignore
    const actions = h("div", { class: "actions" },
      browser || null,
      button("Rename", "Rename", () => renameForm(account, nameCell)),
      button("Delete", "Delete", (event) => {
        if (!confirm(`Delete the account ${name}? Its queues and download history go with it; its browser profile folder is kept.`)) return;
        act(event.currentTarget, async () => {
          await call("DELETE_ACCOUNT", { name });
          return `Deleted ${name}.`;
        });
      }, { class: "danger" }),
    ); // prettier-ignore
    const check = can("VERIFY_SESSION") && button("Check session", "Check the session of", (event) =>
      act(event.currentTarget, async () => {
        const checked = await call("VERIFY_SESSION", { account_name: name });
        sessions.set(name, checked);
        return `${name}: ${sessionText(checked)}.`;
      })); // prettier-ignore
    actions.prepend(...[check].filter(Boolean));
    return row(nameCell, account.email ?? "", account.last_used ?? "never", account.profile_locked ? "open" : "closed",
               sessionText(sessions.get(name)), actions); // prettier-ignore
  };

  onSubmit(form, feedback, async ({ name, email }) => {
    const account = await call("CREATE_ACCOUNT", email ? { name, email } : { name });
    form.reset();
    await load();
    return `Created ${account.name}.`;
  });
  onChange(["account", "browser", "session"], (event) => {
    if (event.resource === "session") sessions.set(event.id, event);
    if (event.resource === "account" && event.change === "renamed" && sessions.has(event.old_id)) {
      sessions.set(event.id, sessions.get(event.old_id));
      sessions.delete(event.old_id);
    }
    return load();
  });
  onLive(load);
}

/** "signed in", "not signed in: why", or "not checked" (a VERIFY_SESSION answer or its event). */
function sessionText(check) {
  if (!check) return "not checked";
  return check.valid ? "signed in" : `not signed in${check.reason ? `: ${check.reason}` : ""}`;
}
