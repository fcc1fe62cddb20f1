"""The guardian at work: each tick, processes → sessions → usage → limits → events.

One daemon thread ticks every ``monitor.poll_interval``; commands run in the
router's worker threads. Both go through one lock, so a command sees the state
of a whole tick, never half of one. Tests drive :meth:`Guardian.tick` by hand
with a fake clock and a stand-in process table.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec

from deskbridge.clock import Clock
from deskbridge.guardian import events, settings, sync
from deskbridge.guardian.config import ChildProfile, GuardianConfig, Weekday
from deskbridge.guardian.limits import OUTSIDE_ALLOWED_HOURS, Allowances, Close, Enforcer, Notice, Standing, Warn
from deskbridge.guardian.monitor import ProcessInfo, ProcessTable, Watcher
from deskbridge.guardian.sessions import Session, Sessions
from deskbridge.guardian.timeline import Timeline
from deskbridge.guardian.usage import Usage
from deskbridge.store import Database

log = logging.getLogger("deskbridge.guardian")

Emit = Callable[[dict[str, Any]], None]

CLOSE_TIMEOUT: Final = 3.0
"""Seconds a terminated game gets to exit before it is killed."""
SLEEP_POLLS: Final = 15
MIN_SLEEP_GAP: Final = 5.0
"""A gap between ticks over max(15 polls, 5 s) is sleep and counts nothing (Timekpr uses 15 polls)."""
HISTORY_DAYS: Final = 7
PAUSED_UNTIL: Final = "paused_until"
"""The pause, on disk: its end (null: until resumed); no row when monitoring runs."""


class Guardian:
    def __init__(
        self,
        config: GuardianConfig,
        db: Database,
        clock: Clock,
        processes: ProcessTable,
        emit: Emit,
    ) -> None:
        self.config = config
        self.child = config.active_child
        self.zone = config.zone()
        self._db = db
        self._processes = processes
        self._emit = emit
        poll = config.monitor.poll_interval
        self.timeline = Timeline(clock, sleep_gap=max(SLEEP_POLLS * poll, MIN_SLEEP_GAP))
        self.usage = Usage(db, self.zone)
        self.allowances = Allowances(db, config.children)
        self.enforcer = Enforcer(db)
        self.sessions = Sessions(db)
        self.sync = sync.SyncRequests(db, emit, config.sync)
        self._session: Session | None = self.sessions.restore()
        self.watcher = Watcher(
            processes, config.monitor.process_names, known=self._session.processes if self._session else ()
        )
        paused_until = settings.load(db, PAUSED_UNTIL)
        self._paused = paused_until is not None
        self._paused_until: float | None = json.loads(paused_until) if paused_until is not None else None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the watcher thread ---------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="guardian-watcher", daemon=True)
        self._thread.start()

    async def aclose(self) -> None:
        """Stop ticking; the database is closed once the thread is out (it may be closing a game)."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, CLOSE_TIMEOUT * 2)
            if self._thread.is_alive():
                log.warning("the guardian's watcher did not stop in time; leaving its database open")
                return
        self._db.close()

    def _run(self) -> None:
        # The first tick waits one interval: the doors subscribe to events meanwhile.
        interval = self.config.monitor.poll_interval
        next_tick = time.monotonic() + interval
        while not self._stop.wait(max(0.0, next_tick - time.monotonic())):
            try:
                self.tick()
            except Exception:
                log.exception("guardian tick failed")
            next_tick = max(next_tick + interval, time.monotonic())

    # -- one tick -------------------------------------------------------------

    def tick(self) -> None:
        with self._lock:
            step = self.timeline.advance()
            now = step.end
            if step.jump:
                self._clock_changed(step.jump, now)
            if self._paused_until is not None and now >= self._paused_until:
                self._set_pause(False, None)
            if self._session is not None and step.awake and not self._paused:
                self.usage.add(self.child, step.start, now)
            changes = self.watcher.poll()
            for info in changes.started:
                self._emit(events.roblox_event("roblox_started", info, now))
            for info in changes.stopped:
                self._emit(events.roblox_event("roblox_stopped", info, now))
            self._follow_session(bool(changes.started or changes.stopped), step.awake, now)
            if self._session is not None and not self._paused:
                self._enforce(now)
            self.sync.resend_due(now)

    def _follow_session(self, changed: bool, played: float, now: float) -> None:
        running = self.watcher.running
        session = self._session
        if session is None:
            if running:
                self._session = self.sessions.start(self.child, now, running)
                self._emit(events.session_event("session_started", self._session_data(self._session, now), now))
            return
        self.sessions.update(session, now, played=played, processes=running if changed else None)
        if not running:
            self.sessions.end(session, now)
            self._session = None
            data = self._session_data(session, now, ended=True)
            self._emit(events.session_event("session_ended", data, now))
            self.sync.request(sync.SESSION, data, now)

    def _enforce(self, now: float) -> None:
        assert self._session is not None
        moment = datetime.fromtimestamp(now, self.zone)
        profile = self.allowances.profile(self.child)
        standing = self.allowances.standing(self.child, profile, self.usage.seconds(self.child, moment.date()), moment)
        for action in self.enforcer.check(self.child, moment.date(), standing, profile, now):
            if isinstance(action, Warn):
                data = self._session_data(self._session, now)
                self._emit(
                    events.session_event(
                        "time_limit_warning", data, now,
                        minutes_remaining=math.ceil(standing.remaining / 60), threshold_minutes=action.threshold,
                    )
                )  # fmt: skip
            elif isinstance(action, Notice):
                self._notify(_notice(self.child, profile, standing, action), now)
            elif isinstance(action, Close):
                self._close(action.reason, now)

    def _close(self, reason: str, now: float) -> None:
        closed, failed = self.close_games()
        for info in closed:
            self._emit(events.roblox_event("roblox_auto_closed", info, now, reason=reason))
        if failed:
            log.warning("could not close %s", ", ".join(f"{info.name} ({info.pid})" for info in failed))

    def _clock_changed(self, jump: float, now: float) -> None:
        minutes = round(jump / 60)
        log.warning("the wall clock moved by %+.0f s; counting as if it had not", jump)
        self._notify(
            {
                "title": "Clock Changed",
                "message": f"The system clock was moved by {minutes:+d} minutes; play time is counted as if it had not",
                "type": "clock_changed",
                "seconds": round(jump),
            },
            now,
        )

    def _notify(self, data: dict[str, Any], now: float) -> None:
        self._emit(events.notification(data, now))
        self.sync.request(sync.NOTIFICATION, data, now)

    def _session_data(self, session: Session, now: float, *, ended: bool = False) -> dict[str, Any]:
        data = {
            "session_id": session.session_id,
            "child_profile": session.child,
            "duration_minutes": int(session.seconds // 60),
            "is_active": not ended,
            "duration_seconds": round(session.seconds),
            "started_at": events.iso(session.started_at),
        }
        if ended:
            data["ended_at"] = events.iso(now)
        return data

    # -- what commands ask ----------------------------------------------------

    def close_games(self) -> tuple[list[ProcessInfo], list[ProcessInfo]]:
        """Close every game process and ``close_also`` now: (games closed, processes still running).

        Their ``roblox_stopped`` events follow from the next poll.
        """
        with self._lock:
            games = self.watcher.running
            closed, failed = self._processes.close(
                [*games, *self.watcher.find(self.config.monitor.close_also)], CLOSE_TIMEOUT
            )
            return [info for info in closed if info in games], failed

    def set_daily_limit(self, child: str, minutes: int, weekday: Weekday | None) -> ChildProfile:
        with self._lock:
            return self.allowances.set_limit(child, minutes, weekday)

    def grant_bonus(self, child: str, minutes: int) -> dict[str, Any]:
        with self._lock:
            self.allowances.grant(child, self.usage.day(self.timeline.now()), minutes)
            return self.today(child)

    def pause(self, minutes: int | None) -> dict[str, Any]:
        with self._lock:
            until = None if minutes is None else self.timeline.now() + minutes * 60
            self._set_pause(True, until)
            return self.monitoring()

    def resume(self) -> dict[str, Any]:
        with self._lock:
            self._set_pause(False, None)
            return self.monitoring()

    def _set_pause(self, paused: bool, until: float | None) -> None:
        self._paused, self._paused_until = paused, until
        self.enforcer.reset()
        if paused:
            settings.save(self._db, PAUSED_UNTIL, until)
        else:
            settings.delete(self._db, PAUSED_UNTIL)

    def monitoring(self) -> dict[str, Any]:
        with self._lock:
            now = self.timeline.now()
            running = self.watcher.running
            return {
                "active": not self._paused,
                "paused_until": events.iso(self._paused_until) if self._paused_until is not None else None,
                "active_child": self.child,
                "playing": bool(running),
                "processes": [events.process_info(info) for info in running],
                "session": self._session_data(self._session, now) if self._session else None,
            }

    def today(self, child: str) -> dict[str, Any]:
        """Where ``child`` stands today, in minutes."""
        with self._lock:
            moment = datetime.fromtimestamp(self.timeline.now(), self.zone)
            profile = self.allowances.profile(child)
            standing = self.allowances.standing(child, profile, self.usage.seconds(child, moment.date()), moment)
            limit = profile.limit_minutes(moment.date())
            return {
                "date": moment.date().isoformat(),
                "minutes_used": int(standing.used // 60),
                "seconds_used": round(standing.used),
                "limit_minutes": limit,
                "bonus_minutes": round(standing.allowed / 60) - limit,
                "minutes_remaining": max(0, math.ceil(standing.remaining / 60)),
                "blocked": standing.blocked,
            }

    def usage_report(self, children: list[str]) -> dict[str, Any]:
        with self._lock:
            today = self.usage.day(self.timeline.now())
            report = {}
            for child in children:
                days = self.usage.history(child, today - timedelta(days=1), HISTORY_DAYS)
                report[child] = {
                    "today": self.today(child),
                    "last_7_days": [
                        {"date": day.isoformat(), "minutes_used": int(seconds // 60), "seconds_used": round(seconds)}
                        for day, seconds in days
                    ],
                }
            return {"date": today.isoformat(), "timezone": self.config.timezone or "local", "children": report}

    def effective_config(self) -> dict[str, Any]:
        """The config as it applies now: the file, with the parent's remote limit changes."""
        with self._lock:
            children = {child: self.allowances.profile(child) for child in self.allowances.children()}
            config: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(self.config, children=children))
            return config

    def now(self) -> float:
        with self._lock:
            return self.timeline.now()


def _notice(child: str, profile: ChildProfile, standing: Standing, notice: Notice) -> dict[str, Any]:
    """The notification for a block, worded as seed 004 words it ("Child has exceeded 2 hour limit")."""
    if notice.reason == OUTSIDE_ALLOWED_HOURS:
        assert profile.allowed_hours is not None
        hours = profile.allowed_hours
        data = {
            "title": "Outside Allowed Hours",
            "message": f"{child} may play from {hours.start} to {hours.end} only",
            "type": notice.reason,
        }
    else:
        minutes = round(standing.allowed / 60)
        limit = f"{minutes // 60} hour" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} minute"
        data = {"title": "Time Limit Exceeded", "message": f"{child} has exceeded {limit} limit", "type": notice.reason}
    return {
        **data,
        "child_profile": child,
        "minutes_used": int(standing.used // 60),
        "auto_close": notice.grace is not None,
        "closes_in_seconds": notice.grace,
    }
