// Small DOM helpers shared by the panels.

/**
 * An element: h("button", {class: "danger", onclick: f, "aria-label": "Delete x"}, "Delete").
 * Keys starting with "on" are listeners; true/false toggle boolean attributes; children may be
 * strings, nodes, arrays, or null (skipped).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

/** Replace an element's children. */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined));
}

/** Show the "empty" note beside a list when it has no item. */
export function showEmpty(note, empty) {
  note.hidden = !empty;
}

/**
 * A bar (role progressbar, or meter for a quantity against a limit) with an accessible name and text.
 * Update it with setBar; value null means "not known yet" (indeterminate).
 */
export function bar(label, { role = "progressbar" } = {}) {
  return h("div", { class: "bar", role, "aria-label": label, "aria-valuemin": 0 }, h("div", { class: "fill" }));
}

export function setBar(element, value, max = 100, text = null) {
  const fillElement = element.firstElementChild;
  element.setAttribute("aria-valuemax", String(max));
  if (value === null || value === undefined) {
    element.removeAttribute("aria-valuenow");
    element.classList.add("indeterminate");
    fillElement.style.width = "100%";
  } else {
    const shown = Math.max(0, Math.min(value, max));
    element.setAttribute("aria-valuenow", String(shown));
    element.classList.remove("indeterminate");
    fillElement.style.width = `${max > 0 ? (100 * shown) / max : 0}%`;
  }
  if (text) element.setAttribute("aria-valuetext", text);
  else element.removeAttribute("aria-valuetext");
}

/**
 * Fill a <select> with values, keeping the choice when it is still there.
 * `all` adds a first option with the empty value ("All accounts").
 */
export function fillSelect(select, values, all = null) {
  const kept = select.value;
  const options = values.map((value) => h("option", { value }, value));
  if (all !== null) options.unshift(h("option", { value: "" }, all));
  fill(select, options);
  if ([...select.options].some((option) => option.value === kept)) select.value = kept;
}

/** "14:03:07" for an event's timestamp (ms). */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** "1 h 05 min" */
export function minutes(total) {
  const whole = Math.floor(total);
  return whole >= 60 ? `${Math.floor(whole / 60)} h ${String(whole % 60).padStart(2, "0")} min` : `${whole} min`;
}

/** A short form of a long id, for labels. */
export function short(id) {
  return String(id).slice(0, 8);
}

/** A row of a table from cells (strings or nodes). */
export function row(...cells) {
  return h("tr", {}, cells.map((cell) => h("td", {}, cell)));
}
