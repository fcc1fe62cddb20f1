"""``STATE_CHANGED``: the one event every state-changing command raises, so every front end follows.

A front end with two windows (or a dashboard beside an Electron app) stays
right only if the backend says what changed: each command that changes state
raises ``{"type": "STATE_CHANGED", "app", "resource", "change", "id"?, ...}``,
stored in the event log like every other event, so a client that was away
catches up by ``seq``. ``resource`` names the kind of thing (``"account"``,
``"prompts"``, ``"limit"``), ``change`` what happened to it (``"created"``,
``"renamed"``), ``id`` which one, and small extra fields its new state.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from deskbridge.events import EventSink

STATE_CHANGED: Final = "STATE_CHANGED"
RESERVED: Final = frozenset({"type", "app", "resource", "change", "seq", "timestamp"})


class Changed(Protocol):
    """What an app's handlers call once they changed something (:meth:`deskbridge.app.AppContext.changed`)."""

    def __call__(self, resource: str, change: str, /, **fields: Any) -> None: ...


def state_changed(app: str, resource: str, change: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The event's body; ``fields`` may not reuse the envelope's keys."""
    clash = RESERVED.intersection(fields)
    if clash:
        raise ValueError(f"STATE_CHANGED fields may not be named {', '.join(sorted(clash))}")
    return {"type": STATE_CHANGED, "app": app, "resource": resource, "change": change, **fields}


class Changes:
    """Raises an app's ``STATE_CHANGED`` events through its sink (safe from any thread, as the sink is)."""

    def __init__(self, app: str, sink: EventSink) -> None:
        self._app = app
        self._sink = sink

    def __call__(self, resource: str, change: str, /, **fields: Any) -> None:
        self._sink.emit(state_changed(self._app, resource, change, fields))
