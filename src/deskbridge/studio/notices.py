"""``ERROR_UPDATE`` and ``WARNING_UPDATE``: what goes wrong without ending the operation under way.

A clip of a batch that fails is an error the batch survives; Suno asking to
slow down (429) or stumbling (5xx) before a retry, or a cover that could not
be fetched, is a warning. Each is one event, never conflated, carrying the
``operation_id`` it belongs to.

Suno's "not now" answers are seen where every request passes
(:mod:`.suno.slowdowns`) and reported to the operation running in the
current task (:data:`current_operation`, set by the operation's work and
inherited by the tasks it starts). The studio builds one :class:`Notices`
and hands it to whatever reports.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Final

from deskbridge.events import EventSink
from deskbridge.operations import Operation

ERROR_UPDATE: Final = "ERROR_UPDATE"
WARNING_UPDATE: Final = "WARNING_UPDATE"
RATE_LIMITED: Final = "RATE_LIMITED"
SUNO_UNAVAILABLE: Final = "SUNO_UNAVAILABLE"
NO_COVER: Final = "NO_COVER"

current_operation: ContextVar[Operation | None] = ContextVar("studio_operation", default=None)


class Notices:
    def __init__(self, events: EventSink) -> None:
        self._events = events

    def error(self, op: Operation, code: str, message: str, **fields: Any) -> None:
        self._events.progress(
            ERROR_UPDATE, {"operation_id": op.id, "error_code": str(code), "error": message, **fields}
        )

    def warning(self, op: Operation, code: str, message: str, **fields: Any) -> None:
        self._events.progress(
            WARNING_UPDATE, {"operation_id": op.id, "warning_code": code, "message": message, **fields}
        )

    def no_cover(self, op: Operation, clip_id: str, label: str, problem: str) -> None:
        """A song saved without its cover art: the download counts, the user may want to know."""
        self.warning(op, NO_COVER, f"{label} was saved without its cover: {problem}", clip_id=clip_id)
