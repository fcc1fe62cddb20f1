"""The stand-in's create page and its ``POST /api/generate/v2-web/``, shaped like suno.com's (Aug 2026).

The page is what the studio's browser automation must cope with: a
contenteditable lyrics editor (no ``.value``), sliders that move only with
trusted pointer input, a model picker, a queue-full dialog and, when a test
asks for one, a captcha iframe that only a person (the test, through
``/_control/create``) clears. Each accepted generation puts two
``submitted`` clips in the feed at once (as Suno does), answers them, and
completes them after :attr:`CreateSettings.delay` seconds; every request
body is kept for tests.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from deskbridge_standins.suno.responses import json_response, session, unauthorized
from deskbridge_standins.suno.state import SunoState


class CreateSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    delay: float = 0.3
    """Seconds before a generation's clips are complete."""
    captcha: bool = False
    """The next Create shows a captcha that waits for ``captcha: false``."""
    queue_full: int = 0
    """How many of the next generations are refused as "generation in progress"."""
    fail_titles: list[str] = []
    """Titles whose generation is refused with a 500."""


class Creations:
    """The create page's settings and every generate request received."""

    def __init__(self, state: SunoState) -> None:
        self.state = state
        self.settings = CreateSettings()
        self.requests: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.settings = CreateSettings()
        self.requests.clear()

    def configure(self, changes: dict[str, Any]) -> CreateSettings:
        merged = {**msgspec.to_builtins(self.settings), **changes}
        self.settings = msgspec.convert(merged, CreateSettings)
        return self.settings

    def generate(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Suno's answer to a generate request: two submitted clips, or why there are none."""
        self.requests.append(body)
        if self.settings.queue_full > 0:
            self.settings.queue_full -= 1
            return 429, {"detail": "Too many generations in progress. Wait until one finishes."}
        if body.get("title") in self.settings.fail_titles:
            return 500, {"detail": "Generation failed"}
        batch = str(uuid.uuid4())
        metadata = {
            "prompt": body.get("prompt", ""),
            "tags": body.get("tags", ""),
            "negative_tags": body.get("negative_tags", ""),
        }
        made = self.state.add_clips(
            [
                {
                    "title": body.get("title", ""),
                    "model_name": body.get("mv"),
                    "metadata": metadata,
                    "status": "submitted",
                }
                for _ in range(2)
            ],
            replace=False,
        )
        asyncio.get_running_loop().call_later(self.settings.delay, _complete, made)
        submitted = [{**clip, "batch_id": batch} for clip in made]
        return 200, {"id": batch, "clips": submitted, "status": "running", "batch_size": 2}


def routes(state: SunoState, creations: Creations) -> list[Route]:
    async def create(request: Request) -> Response:
        return HTMLResponse(CREATE_PAGE)

    async def captcha_page(request: Request) -> Response:
        return HTMLResponse(CAPTCHA_PAGE)

    async def captcha_check(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        return json_response({"required": creations.settings.captcha})

    async def generate(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        status, answer = creations.generate(msgspec.convert(await request.json(), dict[str, Any]))
        return json_response(answer, status)

    return [
        Route("/create", create),
        Route("/captcha/hcaptcha.html", captcha_page),
        Route("/api/c/check", captcha_check, methods=["POST"]),
        Route("/api/generate/v2-web/", generate, methods=["POST"]),
    ]


def _complete(clips: list[dict[str, Any]]) -> None:
    for clip in clips:
        clip["status"] = "complete"


CREATE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Create | Suno</title>
<style>
  .slider { position: relative; width: 200px; height: 16px; background: #ccc; margin: 8px 0; touch-action: none; }
  .slider span { position: absolute; top: 0; height: 16px; width: 4px; background: #333; }
  [hidden] { display: none !important; }
  .lyrics-editor-content { min-height: 60px; border: 1px solid #999; white-space: pre-wrap; }
</style></head>
<body>
<div role="tablist">
  <button role="tab" id="simple">Simple</button><button role="tab" id="advanced">Advanced</button>
</div>
<form id="form" onsubmit="return false">
  <div id="simple-pane" hidden><textarea placeholder="Describe your song"></textarea></div>
  <div id="advanced-pane">
    <div class="lyrics-editor-content" contenteditable="true" aria-label="Lyrics"></div>
    <div data-testid="create-form-styles-wrapper"><textarea id="styles" placeholder="Enter style"></textarea></div>
    <input id="title" placeholder="Enter Song Title (Optional)">
    <details id="more" open><summary>More options</summary>
      <input id="exclude" placeholder="Exclude styles">
      <label>Weirdness</label>
      <div class="slider" role="slider" aria-label="Weirdness" aria-valuemin="0" aria-valuemax="100"
           aria-valuenow="50"><span></span></div>
      <label>Style influence</label>
      <div class="slider" role="slider" aria-label="Style influence" aria-valuemin="0" aria-valuemax="100"
           aria-valuenow="50"><span></span></div>
    </details>
    <select id="model" aria-label="Model">
      <option value="chirp-v3-5">v3.5</option><option value="chirp-v4">v4</option>
      <option value="chirp-auk" selected>v4.5</option><option value="chirp-bluejay">v4.5+</option>
      <option value="chirp-crow">v5</option><option value="chirp-fenix">v5.5</option>
    </select>
  </div>
  <button type="button" id="create">Create</button>
</form>
<div id="full" role="dialog" hidden><p>You have a generation in progress. Please wait.</p>
  <button type="button" id="full-close">Close</button></div>
<ul id="feed"></ul>
<script>
window.Clerk = null;
(async function () {
  const client = await (await fetch("/clerk/v1/client", {credentials: "include"})).json();
  const sid = client.response && client.response.last_active_session_id;
  if (!sid) { return; }
  window.Clerk = {session: {id: sid, getToken: async function () {
    const answer = await fetch("/clerk/v1/client/sessions/" + sid + "/tokens",
                               {method: "POST", credentials: "include"});
    return (await answer.json()).jwt;
  }}};
})();

const $ = (id) => document.getElementById(id);
$("simple").onclick = () => { $("simple-pane").hidden = false; $("advanced-pane").hidden = true; };
$("advanced").onclick = () => { $("simple-pane").hidden = true; $("advanced-pane").hidden = false; };
$("full-close").onclick = () => { $("full").hidden = true; };

// Sliders follow real pointer input only; a script setting aria-valuenow changes nothing that is sent.
const sliders = {};
document.querySelectorAll('[role="slider"]').forEach(function (el) {
  sliders[el.getAttribute("aria-label")] = 50;
  let dragging = false;
  const place = function (event) {
    const box = el.getBoundingClientRect();
    const value = Math.round(Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)) * 100);
    sliders[el.getAttribute("aria-label")] = value;
    el.setAttribute("aria-valuenow", String(value));
    el.firstElementChild.style.left = value * 2 + "px";
  };
  el.addEventListener("pointerdown", function (e) { if (e.isTrusted) { dragging = true; place(e); } });
  window.addEventListener("pointermove", function (e) { if (e.isTrusted && dragging) { place(e); } });
  window.addEventListener("pointerup", function (e) { if (e.isTrusted && dragging) { dragging = false; place(e); } });
});

async function bearer() { return {"Authorization": "Bearer " + await window.Clerk.session.getToken()}; }

async function captchaCleared() {
  for (;;) {
    const answer = await fetch("/api/c/check", {method: "POST", headers: await bearer(),
                                                 body: JSON.stringify({ctype: "generation"})});
    if (!(await answer.json()).required) { return; }
    if (!document.getElementById("captcha")) {
      const frame = document.createElement("iframe");
      frame.id = "captcha"; frame.title = "hCaptcha challenge"; frame.src = "/captcha/hcaptcha.html";
      document.body.appendChild(frame);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

$("create").onclick = async function () {
  await captchaCleared();
  const frame = document.getElementById("captcha");
  if (frame) { frame.remove(); }
  const body = {
    prompt: document.querySelector(".lyrics-editor-content").innerText,
    tags: $("styles").value, title: $("title").value, negative_tags: $("exclude").value,
    mv: $("model").value, make_instrumental: false, generation_type: "TEXT",
    metadata: {control_sliders: {weirdness_constraint: sliders["Weirdness"] / 100,
                                 style_weight: sliders["Style influence"] / 100}},
  };
  const answer = await fetch("/api/generate/v2-web/", {method: "POST",
    headers: {...(await bearer()), "Content-Type": "application/json"}, body: JSON.stringify(body)});
  if (answer.status === 429) { $("full").hidden = false; }
};

// Like the real page, the library beside the form refreshes itself from the feed.
setInterval(async function () {
  if (!window.Clerk) { return; }
  const answer = await fetch("/api/feed/v2?page=0", {headers: await bearer()});
  if (!answer.ok) { return; }
  $("feed").replaceChildren(...(await answer.json()).clips.map(function (clip) {
    const item = document.createElement("li"); item.textContent = clip.title; return item;
  }));
}, 250);
</script>
</body></html>
"""

CAPTCHA_PAGE = "<!doctype html><title>hCaptcha</title><p>Please prove you are human.</p>"
