// The command console: any command of GET_SCHEMA, its payload as JSON (prefilled from the schema),
// the response as it came.

import { fill, fillSelect, h, row } from "../dom.js";
import { perform, say } from "../forms.js";

/** Follow a {"$ref": "#/$defs/Name"} into the schema's definitions. */
function resolve(schema, node) {
  return node?.$ref ? resolve(schema, schema.$defs[node.$ref.split("/").pop()]) : node ?? {};
}

/** The choices of an anyOf (null first out), else the node itself. */
function choices(schema, node) {
  const resolved = resolve(schema, node);
  return resolved.anyOf ? resolved.anyOf.map((choice) => resolve(schema, choice)) : [resolved];
}

function typeName(schema, node) {
  return choices(schema, node)
    .map((choice) => {
      if (choice.enum) return choice.enum.map((value) => JSON.stringify(value)).join(" | ");
      if (choice.type === "array") return `list of ${typeName(schema, choice.items)}`;
      if (choice.title) return choice.title;
      const range = [choice.minimum, choice.maximum].every((bound) => bound !== undefined)
        ? ` ${choice.minimum}–${choice.maximum}`
        : "";
      return `${choice.type ?? "any"}${range}`;
    })
    .join(" or ");
}

/** A value to start from: the default, else something of the right type. */
function example(schema, node) {
  const resolved = resolve(schema, node);
  if ("default" in resolved) return resolved.default;
  const [first] = choices(schema, node).filter((choice) => choice.type !== "null");
  if (!first) return null;
  if (first.enum) return first.enum[0];
  if (first.type === "object" && first.properties) return template(schema, first);
  return { string: "", integer: first.minimum ?? 0, number: first.minimum ?? 0, boolean: false, array: [], object: {} }[first.type] ?? null;
}

function template(schema, node) {
  const { properties = {} } = resolve(schema, node);
  return Object.fromEntries(Object.entries(properties).map(([name, field]) => [name, example(schema, field)]));
}

function fieldTable(schema, node) {
  const { properties = {}, required = [] } = resolve(schema, node);
  const names = Object.keys(properties);
  if (names.length === 0) return h("p", { class: "hint" }, "No payload fields.");
  return h("table", { class: "fields" },
    h("caption", {}, "Payload fields"),
    h("thead", {}, h("tr", {}, ["Field", "Type", "Required", "Default"].map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, names.map((name) => {
      const field = resolve(schema, properties[name]);
      return row(h("code", {}, name), typeName(schema, field), required.includes(name) ? "yes" : "",
                 "default" in field ? JSON.stringify(field.default) : ""); // prettier-ignore
    })),
  ); // prettier-ignore
}

export function mount({ schema, send }) {
  const form = document.getElementById("console-form");
  const select = document.getElementById("console-type");
  const doc = document.getElementById("console-doc");
  const fields = document.getElementById("console-fields");
  const payload = document.getElementById("console-payload");
  const status = document.getElementById("console-status");
  const response = document.getElementById("console-response");

  const choose = () => {
    const command = schema.commands[select.value];
    const operation = command.operation ? " An operation: it answers at once; its progress shows under Operations." : "";
    doc.textContent = `${command.doc || "No description."}${operation}`;
    fill(fields, fieldTable(schema, command.payload));
    payload.value = JSON.stringify(template(schema, command.payload), null, 2);
  };

  fillSelect(select, Object.keys(schema.commands).sort());
  if ("PING" in schema.commands) select.value = "PING";
  choose();
  select.addEventListener("change", choose);
  payload.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    perform(form, status, async () => {
      let body;
      try {
        body = payload.value.trim() ? JSON.parse(payload.value) : {};
      } catch (error) {
        throw new Error(`The payload is not valid JSON: ${error.message}`);
      }
      say(status, `Sending ${select.value}…`);
      const started = performance.now();
      const { status: code, envelope } = await send(select.value, body);
      response.textContent = JSON.stringify(envelope, null, 2);
      const outcome = envelope.success ? "success" : `failed: ${envelope.error_code}`;
      const took = Math.round(performance.now() - started);
      say(status, `${select.value}: ${outcome} (HTTP ${code}, ${took} ms)`, { error: !envelope.success });
    });
  });
}
