"""The stand-in's create page, ``c/check`` and ``POST /api/generate/v2-web/``, shaped like suno.com's (Dec 2026).

The page (``create_page.html``) has the structure the studio must cope with
today: controls known by roles and accessible names, a hidden duplicate of
the title input, a Lexical-like lyrics editor that merges a bulk multi-line
insert into one paragraph, More Options collapsed and not rendered until
opened (``more_options.html``, fetched on demand), sliders that move only
under trusted keys or pointer, a model menu, a queue-full dialog, and a
challenge widget that stays unseen unless a test wants a person to act.

The generate route checks what the real one would refuse (no token while a
captcha is required, a retired model, a field over its limit); each accepted
generation puts two ``submitted`` clips in the feed at once (as Suno does),
answers them, and completes them after :attr:`CreateSettings.delay` seconds.
Every request body is kept for tests. The switches ``drop``, ``relabel`` and
``stubborn`` make the page drift the way Suno's does, for the page check and
the form's read-back.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from importlib import resources
from typing import Any, Final, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from deskbridge_standins.suno.responses import json_object, json_response, not_an_object, session, unauthorized
from deskbridge_standins.suno.state import SunoState

MODELS: Final = {"v6": "chirp-hawk", "v6-wild": "chirp-hawk-wild", "v6-mini": "chirp-goose"}
"""What the model menu offers: every model before v6 was retired on 2026-09-09."""
LIMITS: Final = {"title": 100, "prompt": 5_000, "tags": 1_000, "negative_tags": 1_000}
NO_STORE: Final = {"Cache-Control": "no-store"}

INVISIBLE_PASS: Final = """<!doctype html><title>Turnstile</title>
<script>setTimeout(function () { parent.postMessage("passed", "*"); }, 150);</script>"""
SHOWN_BRIEFLY: Final = """<!doctype html><title>Turnstile</title><p>Verifying...</p>
<script>parent.postMessage("shown", "*");
setTimeout(function () { parent.postMessage("passed", "*"); }, 200);</script>"""
PERSON_NEEDED: Final = """<!doctype html><title>Turnstile</title><p>Verify you are human</p>
<script>parent.postMessage("interactive", "*");</script>"""


class CreateSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    delay: float = 0.3
    """Seconds before a generation's clips are complete."""
    captcha: Literal["off", "invisible", "brief", "visible"] = "off"
    """``c/check`` requires a captcha: passed unseen, passed after showing itself a moment, or shown until the
    test sets ``off`` (a person solved it)."""
    queue_full: int = 0
    """How many of the next generations are refused as "generation in progress"."""
    fail_titles: list[str] = []
    """Titles whose generation is refused with a 500."""
    drop: list[str] = []
    """Controls the page leaves out (``data-standin`` names: ``create_button``, ``lyrics``, ``weirdness``...)."""
    relabel: dict[str, str] = {}
    """Controls whose accessible name (``aria-label``) changes."""
    stubborn: list[str] = []
    """Controls that drop what is typed into them (the lyrics: their line breaks)."""


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

    def page(self) -> str:
        """The create page as this load of it should be (the drift switches in)."""
        switches = {"drop": self.settings.drop, "relabel": self.settings.relabel, "stubborn": self.settings.stubborn}
        html = _asset("create_page.html")
        return html.replace("/*STANDIN*/{}", json.dumps(switches)).replace("/*MODELS*/{}", json.dumps(MODELS))

    def refusal(self, body: dict[str, Any]) -> tuple[int, str] | None:
        """Why Suno would refuse this request before generating anything, if it would."""
        if self.settings.captcha != "off" and not body.get("token"):
            return 422, "Token validation failed"
        if body.get("mv") not in MODELS.values():
            return 422, f"Model {body.get('mv')!r} is not available"
        for field, limit in LIMITS.items():
            value = body.get(field)
            if isinstance(value, str) and len(value) > limit:
                return 422, f"{field} is longer than {limit} characters"
        return None

    def generate(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Suno's answer to a generate request: two submitted clips, or why there are none."""
        self.requests.append(body)
        refused = self.refusal(body)
        if refused is not None:
            return refused[0], {"detail": refused[1]}
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
        partial = {"title": body.get("title", ""), "model_name": body.get("mv"), "major_model_version": "v6"}
        made = self.state.add_clips(
            [{**partial, "metadata": metadata, "status": "submitted"} for _ in range(2)], replace=False
        )
        asyncio.get_running_loop().call_later(self.settings.delay, _complete, made)
        submitted = [{**clip, "batch_id": batch, "batch_index": index} for index, clip in enumerate(made)]
        return 200, {"id": batch, "clips": submitted, "status": "running", "batch_size": 2}


def routes(state: SunoState, creations: Creations) -> list[Route]:
    async def create(request: Request) -> Response:
        return HTMLResponse(creations.page(), headers=NO_STORE)

    async def more_options(request: Request) -> Response:
        return HTMLResponse(_asset("more_options.html"), headers=NO_STORE)

    async def challenge(request: Request) -> Response:
        widget = {"visible": PERSON_NEEDED, "brief": SHOWN_BRIEFLY}.get(creations.settings.captcha, INVISIBLE_PASS)
        return HTMLResponse(widget, headers=NO_STORE)

    async def captcha_check(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        return json_response({"required": creations.settings.captcha != "off", "captcha_version": 2})

    async def generate(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        body = await json_object(request)
        if body is None:
            return not_an_object()
        status, answer = creations.generate(body)
        return json_response(answer, status)

    return [
        Route("/create", create),
        Route("/create/more-options", more_options),
        Route("/captcha/turnstile", challenge),
        Route("/api/c/check", captcha_check, methods=["POST"]),
        Route("/api/generate/v2-web/", generate, methods=["POST"]),
    ]


def _asset(name: str) -> str:
    return resources.files("deskbridge_standins.suno").joinpath(name).read_text(encoding="utf-8")


def _complete(clips: list[dict[str, Any]]) -> None:
    for clip in clips:
        clip["status"] = "complete"
