"""A desktop client that does exactly what seed 004's Flutter client does, and nothing more.

It posts ``/desktop/connect``, then calls ``GET /desktop/events/poll`` every
``interval`` seconds (2 in the seed) with no parameters at all: no token, no
cursor, no client id. A failed poll is simply tried again at the next tick
(the Timer keeps firing while the server is down). It keeps no state a
restart would carry over: a new :class:`SeedClient` is the app started again.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx


class SeedClient:
    def __init__(self, base_url: str, interval: float = 2.0) -> None:
        self.base_url = base_url
        self.interval = interval
        self.events: list[dict[str, Any]] = []
        self.failed_polls = 0
        self._stop = threading.Event()
        self._http = httpx.Client(base_url=base_url, timeout=5)
        self.connected = self._http.post("/desktop/connect", json={"client_type": "flutter_desktop"}).json()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                response = self._http.get("/desktop/events/poll")
                response.raise_for_status()
                self.events.extend(response.json()["events"])
            except (httpx.HTTPError, ValueError):
                self.failed_polls += 1

    def close(self) -> None:
        """The app quits (between two polls, as a Timer-driven app does)."""
        self._stop.set()
        self._thread.join(10)
        self._http.close()
