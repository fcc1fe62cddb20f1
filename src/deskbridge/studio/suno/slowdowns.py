"""Suno asking to slow down (429) or stumbling (5xx): seen where every request passes, reported once.

The studio's one ``httpx`` client calls :meth:`Slowdowns.on_response` after
each answer; an answer the studio will retry after becomes a
``WARNING_UPDATE`` of the operation running in the current task
(:data:`~deskbridge.studio.notices.current_operation`). Outside an operation
(``FETCH_CLIPS``) it is logged. Only the method and path are reported:
never a query (signed download URLs) nor a header (tokens).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from deskbridge.studio.notices import RATE_LIMITED, SUNO_UNAVAILABLE, Notices, current_operation
from deskbridge.studio.suno.retry import RETRY_STATUSES

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("deskbridge.studio.suno")


class Slowdowns:
    def __init__(self, notices: Notices) -> None:
        self._notices = notices

    async def on_response(self, response: httpx.Response) -> None:
        """An ``httpx`` response hook: report an answer that the studio will retry after."""
        status = response.status_code
        if status not in RETRY_STATUSES:
            return
        request = response.request
        retry_after = response.headers.get("retry-after")
        message = f"Suno answered HTTP {status} to {request.method} {request.url.path}" + (
            f" (Retry-After: {retry_after})" if retry_after else ""
        )
        op = current_operation.get()
        if op is None:
            log.warning("%s", message)
            return
        fields: dict[str, Any] = {"http_status": status}
        if retry_after:
            fields["retry_after"] = retry_after
        self._notices.warning(op, RATE_LIMITED if status == 429 else SUNO_UNAVAILABLE, message, **fields)
