"""The longest session with a required break: play counted since the last break long enough, per child.

A stretch is play with no pause of ``break_minutes`` in it; quitting and
relaunching the game a minute later is the same stretch. Once a stretch reaches
``max_session_minutes`` the child must not play for ``break_minutes`` from the
last moment the game ran (a relaunch during the break starts the break again).
Kept on disk, so a restart of the guardian neither shortens nor forgets it.
"""

from __future__ import annotations

import msgspec

from deskbridge.guardian import settings
from deskbridge.guardian.config import ChildProfile
from deskbridge.store import Database

_KEY = "stretches"


class Stretch(msgspec.Struct):
    started: float
    last_play: float
    played: float = 0.0


class SessionStanding(msgspec.Struct, frozen=True):
    left: float | None
    """Seconds of play before the break is due; None: no longest session."""
    break_left: float
    """Seconds of the required break still to go (0: none due)."""
    started: float
    """When the stretch began: a break after another stretch is another block."""


_decoder = msgspec.json.Decoder(dict[str, Stretch])


class Stretches:
    def __init__(self, db: Database) -> None:
        self._db = db
        stored = settings.load(db, _KEY)
        try:
            self._stretches = _decoder.decode(stored) if stored is not None else {}
        except msgspec.DecodeError:
            self._stretches = {}

    def update(self, child: str, playing: bool, played: float, now: float, profile: ChildProfile) -> None:
        """One tick: ``played`` seconds counted for ``child`` (0 when not playing)."""
        if profile.max_session_minutes is None:
            if self._stretches.pop(child, None) is not None:
                settings.save(self._db, _KEY, self._stretches)
            return
        stretch = self._stretches.get(child)
        if stretch is not None and now - stretch.last_play >= profile.break_seconds():
            stretch = None  # a break long enough (the one required, or a pause): a new count
        if not playing:
            if stretch is None and self._stretches.pop(child, None) is not None:
                settings.save(self._db, _KEY, self._stretches)
            return
        if stretch is None:
            stretch = Stretch(started=now, last_play=now)
        stretch.played += played
        stretch.last_play = now
        self._stretches[child] = stretch
        settings.save(self._db, _KEY, self._stretches)

    def standing(self, child: str, now: float, profile: ChildProfile) -> SessionStanding:
        if profile.max_session_minutes is None:
            return SessionStanding(None, 0.0, now)
        limit, rest = profile.max_session_minutes * 60.0, profile.break_seconds()
        stretch = self._stretches.get(child)
        if stretch is None or now - stretch.last_play >= rest:
            return SessionStanding(limit, 0.0, now)
        if stretch.played < limit:
            return SessionStanding(limit - stretch.played, 0.0, stretch.started)
        return SessionStanding(0.0, rest - (now - stretch.last_play), stretch.started)
