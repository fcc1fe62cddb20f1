// Running an action from a form or a button, with its outcome said in a feedback line.

/** Show a message (an error, or a warning: done, but not all is well) in a feedback element (role=status:
 * screen readers announce it). */
export function say(feedback, message, { error = false, warning = false } = {}) {
  feedback.classList.toggle("error", error);
  feedback.classList.toggle("warning", warning);
  feedback.textContent = message;
}

export function sayError(feedback, error) {
  say(feedback, error.code ? `${error.message} (${error.code})` : String(error.message || error), { error: true });
}

/**
 * Run `action` once at a time for `busyElement`; its returned string goes to the feedback line (a
 * `{ message, warning }` as a warning when `warning` is true), a thrown error too. The element keeps its
 * focus (aria-busy, not disabled).
 */
export async function perform(busyElement, feedback, action) {
  if (busyElement.getAttribute("aria-busy") === "true") return;
  busyElement.setAttribute("aria-busy", "true");
  try {
    const message = await action();
    if (typeof message === "string") say(feedback, message);
    else if (message?.message) say(feedback, message.message, { warning: message.warning });
  } catch (error) {
    sayError(feedback, error);
  } finally {
    busyElement.removeAttribute("aria-busy");
  }
}

/** Submit handler: `action(values)` gets the form's fields as an object. */
export function onSubmit(form, feedback, action) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    perform(form, feedback, () => action(Object.fromEntries(new FormData(form))));
  });
}
