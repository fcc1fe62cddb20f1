"""The guardian at work: each tick, processes → sessions → usage → limits → events, per child.

One daemon thread ticks every ``monitor.poll_interval``; commands run in the
router's worker threads. Both go through one lock, so a command sees the state
of a whole tick, never half of one. Tests drive :meth:`Guardian.tick` by hand
with a fake clock, a stand-in process table and a zone source of their own.

Each game process belongs to the child whose OS account runs it (``users``);
several children may play at once, each with a session, limits and blocks of
their own. Play the guardian did not see (it was down while a game ran) is
counted at start and reported; the day's time zone is fixed at the first run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import msgspec

from deskbridge.caller import current as current_caller
from deskbridge.clock import Clock
from deskbridge.guardian import events, settings, sync
from deskbridge.guardian.config import AllowedHours, ChildProfile, GuardianConfig, Weekday
from deskbridge.guardian.downtime import Downtime
from deskbridge.guardian.holds import Holds, until_instant
from deskbridge.guardian.limits import (
    BREAK_REQUIRED,
    OUTSIDE_ALLOWED_HOURS,
    WEEKLY_LIMIT_EXCEEDED,
    Allowances,
    Close,
    Countdown,
    Enforcer,
    Notice,
    Standing,
    Warn,
)
from deskbridge.guardian.monitor import ProcessInfo, ProcessTable, Watcher
from deskbridge.guardian.platforms import Detector, log_dirs, this_platform
from deskbridge.guardian.roblox_logs import Joined, LogFollower
from deskbridge.guardian.sessions import Session, Sessions
from deskbridge.guardian.stretches import Stretches
from deskbridge.guardian.time_requests import TimeRequest, TimeRequests
from deskbridge.guardian.timeline import Timeline
from deskbridge.guardian.usage import Usage
from deskbridge.guardian.zones import Zones, ZoneSource, system_zone
from deskbridge.store import Database

log = logging.getLogger("deskbridge.guardian")

Emit = Callable[[dict[str, Any]], None]
Processes = list[ProcessInfo]

CLOSE_TIMEOUT: Final = 3.0
"""Seconds a terminated game gets to exit before it is killed."""
SLEEP_POLLS: Final = 15
MIN_SLEEP_GAP: Final = 5.0
"""A gap between ticks over max(15 polls, 5 s) is sleep and counts nothing (Timekpr uses 15 polls)."""
HISTORY_DAYS: Final = 7
PAUSED_UNTIL: Final = "paused_until"
"""The pause, on disk: its end (null: until resumed); no row when monitoring runs."""
LAST_TICK: Final = "last_tick"
"""When the guardian last looked (epoch seconds): play after it, while it was down, was not seen."""
IDLE_SAVE_EVERY: Final = 30.0
"""Seconds between saves of the last tick while no game runs."""
ZONE_CHECK_EVERY: Final = 10.0
"""Seconds between looks at the system's time zone."""
CLOSED_BY_PARENT: Final = "closed_by_parent"


class Guardian:
    def __init__(
        self,
        config: GuardianConfig,
        db: Database,
        clock: Clock,
        processes: ProcessTable,
        emit: Emit,
        *,
        zone_source: ZoneSource = system_zone,
    ) -> None:
        self.config = config
        self.child = config.active_child
        self._db = db
        self._processes = processes
        self._emit = emit
        self.zones = Zones(db, config.timezone, zone_source)
        self.zone = self.zones.day
        poll = config.monitor.poll_interval
        self.timeline = Timeline(clock, sleep_gap=max(SLEEP_POLLS * poll, MIN_SLEEP_GAP))
        self.usage = Usage(db, self.zone)
        self.allowances = Allowances(db, config.children)
        self.enforcer = Enforcer(db)
        self.sessions = Sessions(db)
        self.sync = sync.SyncRequests(db, emit, config.sync)
        self._sessions: dict[str, Session] = self.sessions.restore()
        monitor = config.monitor
        self.watcher = Watcher(
            processes,
            Detector(monitor.process_names, monitor.close_also, monitor.install_dirs),
            known=[info for session in self._sessions.values() for info in session.processes],
        )
        paused_until = settings.load(db, PAUSED_UNTIL)
        self._paused = paused_until is not None
        self._paused_until: float | None = json.loads(paused_until) if paused_until is not None else None
        last_tick = settings.load(db, LAST_TICK)
        self._last_tick: float | None = json.loads(last_tick) if last_tick is not None else None
        self.holds = Holds(db)
        self.time_requests = TimeRequests(db)
        self.downtime = Downtime(db)
        self.stretches = Stretches(db)
        logs = config.monitor.roblox_logs
        folders = [Path(os.path.expanduser(os.path.expandvars(f))) for f in logs.folders] or log_dirs(this_platform())
        self.logs = [LogFollower(folder) for folder in folders] if logs.enabled else []
        self._first_tick = True
        self._started = self.timeline.now()
        self._zone_checked = -math.inf
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
        self.downtime.stopping(self.timeline.now())
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
            if now - self._zone_checked >= ZONE_CHECK_EVERY:
                self._zone_checked = now
                self._check_zone(now)
            if self._paused_until is not None and now >= self._paused_until:
                self._set_pause(False, None)
            if step.awake and not self._paused and self._in_game_or_counted():
                for child in self._sessions:
                    self.usage.add(child, step.start, now)
            self._follow_logs(now)
            changes = self.watcher.poll()
            for info in changes.started:
                self._emit(events.roblox_event("roblox_started", info, now, child_profile=self.owner(info)))
            for info in changes.stopped:
                self._emit(events.roblox_event("roblox_stopped", info, now, child_profile=self.owner(info)))
            playing = self._by_child(self.watcher.running)
            self._follow_sessions(playing, bool(changes.started or changes.stopped), step.awake, now)
            for child, profile in self.config.children.items():  # the parent's remote changes are limits only
                counted = step.awake if child in playing and not self._paused else 0.0
                self.stretches.update(child, child in playing, counted, now, profile)
            if self._first_tick:
                self._first_tick = False
                self._unseen_play(playing, now)
                self._report_stop(now)
            self._enforce_holds(playing, now)
            if not self._paused:
                for child in list(self._sessions):
                    self._enforce(child, now)
            self.sync.resend_due(now)
            # While a game runs, every tick (what follows it is unseen); idle, twice a minute is enough.
            if playing or self._last_tick is None or now - self._last_tick >= IDLE_SAVE_EVERY:
                self._last_tick = now
                settings.save(self._db, LAST_TICK, now)

    def _follow_logs(self, now: float) -> None:
        for follower in self.logs:
            for found in follower.poll():
                kind = "game_joined" if isinstance(found, Joined) else "game_left"
                data = {"place_id": found.place_id, "log_file": str(follower.following), "child_profile": self.child}
                if isinstance(found, Joined):
                    data["job_id"] = found.job_id
                self._emit(events.game_event(kind, data, now))

    def _in_game_or_counted(self) -> bool:
        """Whether time counts now: always, unless the config counts only games and a followed log says the home
        screen."""
        if self.config.monitor.roblox_logs.count_home_screen:
            return True
        followed = [follower for follower in self.logs if follower.following is not None]
        return not followed or any(follower.place is not None for follower in followed)

    def owner(self, info: ProcessInfo) -> str | None:
        """The child whose game this is: its OS user's profile (``users``), or None for an account not listed."""
        users = self.config.users
        if not users:
            return self.child
        return users.get(info.user) or users.get(info.user.rpartition("\\")[2])  # DOMAIN\\user on Windows

    def _by_child(self, processes: list[ProcessInfo]) -> dict[str, list[ProcessInfo]]:
        playing: dict[str, list[ProcessInfo]] = {}
        for info in processes:
            child = self.owner(info)
            if child is not None:
                playing.setdefault(child, []).append(info)
        return playing

    def _unseen_play(self, playing: dict[str, list[ProcessInfo]], now: float) -> None:
        """At start: a game that ran while the guardian was down counts from the later of its start and the last
        tick the guardian saved, until the guardian started, and the parent is told."""
        until = self._started
        for child, processes in playing.items():
            began = min(max(info.create_time, self._last_tick or info.create_time) for info in processes)
            if until - began < 1:
                continue
            if not self._paused:
                self.usage.add(child, began, until)
            minutes = round((until - began) / 60)
            data = {"child_profile": child, "from": events.iso(began), "to": events.iso(until),
                    "seconds": round(until - began), "minutes": minutes, "counted": not self._paused}  # fmt: skip
            self._emit(
                events.session_event("unwatched_play", self._session_data(self._sessions[child], now), now, **data)
            )
            self._notify(
                {"title": "Play While The Guardian Was Off",
                 "message": f"{child} played about {minutes} minutes while the guardian was not running",
                 "type": "unwatched_play", **data},
                now,
            )  # fmt: skip

    def _report_stop(self, now: float) -> None:
        """At start: the run before this one stopped; a cut one, or one stop too many today, is told."""
        if self._last_tick is None:
            return  # the first run ever
        stop = self.downtime.found(self._last_tick, self._started, self.usage.day(self._started))
        limit = self.config.monitor.max_stops_per_day
        data = {"from": events.iso(stop.last_seen), "to": events.iso(stop.started), "seconds": round(stop.seconds),
                "clean": stop.clean, "stops_today": stop.today, "max_stops_per_day": limit}  # fmt: skip
        if not stop.clean:
            self._notify(
                {"title": "Guardian Was Stopped",
                 "message": f"the guardian was stopped without shutting down (killed or crashed) and was off for "
                            f"{round(stop.seconds / 60)} minutes",
                 "type": "guardian_stopped", **data},
                now,
            )  # fmt: skip
        if stop.today > limit:
            self._notify(
                {"title": "Guardian Stopped Often",
                 "message": f"the guardian has been stopped {stop.today} times today (more than {limit})",
                 "type": "guardian_stopped_often", **data},
                now,
            )  # fmt: skip

    def _follow_sessions(self, playing: dict[str, list[ProcessInfo]], changed: bool, played: float, now: float) -> None:
        for child, session in list(self._sessions.items()):
            running = playing.get(child, [])
            self.sessions.update(session, now, played=played, processes=running if changed else None)
            if not running:
                self.sessions.end(session, now)
                del self._sessions[child]
                data = self._session_data(session, now, ended=True)
                self._emit(events.session_event("session_ended", data, now))
                self.sync.request(sync.SESSION, data, now)
        for child, running in playing.items():
            if child not in self._sessions:
                session = self._sessions[child] = self.sessions.start(child, now, running)
                self._emit(events.session_event("session_started", self._session_data(session, now), now))

    def _enforce(self, child: str, now: float) -> None:
        session = self._sessions[child]
        moment = datetime.fromtimestamp(now, self.zone)
        profile = self.allowances.profile(child)
        standing = self._standing(child, profile, moment, now)
        for action in self.enforcer.check(child, moment.date(), standing, profile, now):
            if isinstance(action, Warn):
                data = self._session_data(session, now)
                self._emit(
                    events.session_event(
                        "time_limit_warning", data, now,
                        minutes_remaining=math.ceil(standing.remaining / 60), threshold_minutes=action.threshold,
                    )
                )  # fmt: skip
            elif isinstance(action, Notice):
                self._notify(_notice(child, profile, standing, action, moment), now)
            elif isinstance(action, Countdown):
                seconds = math.ceil(action.seconds)
                self._notify(
                    {"title": "Closing Soon", "message": f"the game closes in {seconds} seconds",
                     "type": "final_countdown", "child_profile": child, "closes_in_seconds": seconds,
                     "reason": standing.blocked},
                    now,
                )  # fmt: skip
            elif isinstance(action, Close):
                self._close(child, action.reason, now)

    def _standing(self, child: str, profile: ChildProfile, moment: datetime, now: float) -> Standing:
        day = moment.date()
        session = self.stretches.standing(child, now, profile) if profile.max_session_minutes else None
        used, week = self.usage.seconds(child, day), self.usage.week_seconds(child, day)
        return self.allowances.standing(child, profile, used, moment, week, session)

    def _enforce_holds(self, playing: dict[str, list[ProcessInfo]], now: float) -> None:
        """A game a parent closed "until" a time is closed again at once, without grace, until then."""
        for child in self.holds.held(now):
            if child in playing:
                self._close(child, CLOSED_BY_PARENT, now)

    def _close(self, child: str, reason: str, now: float) -> None:
        closed, failed = self._close_games(child)
        for info in closed:
            self._emit(events.roblox_event("roblox_auto_closed", info, now, reason=reason, child_profile=child))
        if failed:
            log.warning("could not close %s", ", ".join(f"{info.name} ({info.pid})" for info in failed))

    def _check_zone(self, now: float) -> None:
        """A change of the system's zone is told like a clock jump; the day's zone stays what it was."""
        change = self.zones.changed()
        if change is None:
            return
        before, current = change
        log.warning("the system's time zone moved from %s to %s; days still end at midnight in %s",
                    before or "local", current or "local", self.zone or "local time")  # fmt: skip
        self._notify(
            {
                "title": "Clock Changed",
                "message": f"The system's time zone was changed from {before or 'local'} to {current or 'local'}; "
                "days still end as before",
                "type": "clock_changed",
                "seconds": 0,
                "zone_from": before,
                "zone_to": current,
            },
            now,
        )

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

    def _close_games(self, child: str | None) -> tuple[list[ProcessInfo], list[ProcessInfo]]:
        """Close ``child``'s games (None: every child's) and the helpers of their accounts."""
        games = [info for info in self.watcher.running if child is None or self.owner(info) == child]
        users = {info.user for info in games}
        helpers = [info for info in self.watcher.helpers() if not self.config.users or info.user in users]
        if not games and not helpers:
            return [], []
        closed, failed = self._processes.close([*games, *helpers], CLOSE_TIMEOUT)
        return [info for info in closed if info in games], failed

    def force_close(self, child: str | None, until: str | None) -> tuple[Processes, Processes, float | None]:
        """Close games now: (closed, still running, held until). With ``until`` (``tomorrow`` or ``HH:MM``, local),
        a relaunch before then is closed again at once."""
        with self._lock:
            held = None
            if until is not None:
                held = until_instant(until, self.timeline.now(), self.zone)
                self.holds.hold([child] if child is not None else self.allowances.children(), held)
            closed, failed = self._close_games(child)
            self.parent_action("force_close", {"child": child, "until": until, "closed": len(closed)})
            return closed, failed, held

    def set_daily_limit(self, child: str, minutes: int, weekday: Weekday | None) -> ChildProfile:
        with self._lock:
            today = self.usage.day(self.timeline.now())
            profile = self.allowances.set_limit(child, minutes, weekday, today)
            self.parent_action("set_daily_limit", {"child": child, "minutes": minutes, "weekday": weekday})
            return profile

    def set_allowed_hours(self, child: str, windows: tuple[AllowedHours, ...], weekday: Weekday | None) -> ChildProfile:
        with self._lock:
            profile = self.allowances.set_hours(child, windows, weekday)
            hours = [msgspec.to_builtins(window) for window in windows]
            self.parent_action("set_allowed_hours", {"child": child, "windows": hours, "weekday": weekday})
            return profile

    def grant_bonus(self, child: str, minutes: int) -> dict[str, Any]:
        """Add minutes to today (negative: take them away)."""
        with self._lock:
            self.allowances.grant(child, self.usage.day(self.timeline.now()), minutes)
            action = "grant_bonus_time" if minutes > 0 else "take_time"
            self.parent_action(action, {"child": child, "minutes": abs(minutes)})
            return self.today(child)

    def ask_for_time(self, child: str, minutes: int, reason: str) -> TimeRequest:
        """The child's request: a notification the parent's phone shows, answered by :meth:`answer_time_request`."""
        with self._lock:
            now = self.timeline.now()
            request = self.time_requests.ask(child, minutes, reason, now)
            self._notify(
                {"title": "More Time Asked", "message": f"{child} asks for {minutes} more minutes"
                 + (f": {reason}" if reason else ""), "type": "time_request", "request": request.data()},
                now,
            )  # fmt: skip
            return request

    def answer_time_request(self, request_id: str, minutes: int) -> TimeRequest:
        """Grant ``minutes`` of a request (0 refuses it); the child's client sees the answer as a notification."""
        with self._lock:
            now = self.timeline.now()
            request = self.time_requests.answer(request_id, minutes, now)
            if minutes:
                self.allowances.grant(request.child, self.usage.day(now), minutes)
            self.parent_action("answer_time_request", {"request_id": request_id, "granted_minutes": minutes})
            verdict = f"{minutes} more minutes granted" if minutes else "refused"
            self._notify(
                {"title": "Time Request Answered", "message": f"{request.child}'s request: {verdict}",
                 "type": "time_request_answered", "request": request.data()},
                now,
            )  # fmt: skip
            return request

    def pause(self, minutes: int | None) -> dict[str, Any]:
        with self._lock:
            until = None if minutes is None else self.timeline.now() + minutes * 60
            self._set_pause(True, until)
            self.parent_action("pause_monitoring", {"minutes": minutes})
            return self.monitoring()

    def resume(self) -> dict[str, Any]:
        with self._lock:
            self._set_pause(False, None)
            self.parent_action("resume_monitoring", {})
            return self.monitoring()

    def parent_action(self, action: str, params: dict[str, Any]) -> None:
        """Every change a parent (or someone posing as one) makes leaves an event and a notification: who, what,
        through which door, so the parent's phone sees it and tampering shows."""
        with self._lock:
            caller = current_caller()
            now = self.timeline.now()
            self._notify(
                {"title": "Guardian Settings Changed", "message": f"{action} by {caller.client_id or caller.door}",
                 "type": "parent_action", "action": action, "params": params,
                 "door": caller.door, "client_id": caller.client_id},
                now,
            )  # fmt: skip

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
            session = self._sessions.get(self.child) or next(iter(self._sessions.values()), None)
            return {
                "active": not self._paused,
                "paused_until": events.iso(self._paused_until) if self._paused_until is not None else None,
                "active_child": self.child,
                "playing": bool(running),
                "processes": [{**events.process_info(info), "child_profile": self.owner(info)} for info in running],
                "session": self._session_data(session, now) if session else None,
                "sessions": [self._session_data(s, now) for s in self._sessions.values()],
                "closed_until": {child: events.iso(until) for child, until in self.holds.until.items()},
            }

    def today(self, child: str) -> dict[str, Any]:
        """Where ``child`` stands today, in minutes."""
        with self._lock:
            moment = datetime.fromtimestamp(self.timeline.now(), self.zone)
            profile = self.allowances.profile(child)
            standing = self._standing(child, profile, moment, self.timeline.now())
            limit = self.allowances.limit_minutes(child, profile, moment.date())
            return {
                "date": moment.date().isoformat(),
                "minutes_used": int(standing.used // 60),
                "seconds_used": round(standing.used),
                "limit_minutes": limit,
                "bonus_minutes": round(self.allowances.bonus_seconds(child, moment.date()) / 60),
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
            zone = self.config.timezone or (str(self.zone) if self.zone else "local")
            return {"date": today.isoformat(), "timezone": zone, "children": report}

    def effective_config(self) -> dict[str, Any]:
        """The config as it applies now: the file, with the parent's remote limit changes."""
        with self._lock:
            children = {child: self.allowances.profile(child) for child in self.allowances.children()}
            config: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(self.config, children=children))
            return config

    def now(self) -> float:
        with self._lock:
            return self.timeline.now()


def _notice(child: str, profile: ChildProfile, standing: Standing, notice: Notice, moment: datetime) -> dict[str, Any]:
    """The notification for a block, worded as seed 004 words it ("Child has exceeded 2 hour limit")."""
    if notice.reason == OUTSIDE_ALLOWED_HOURS:
        hours = " or ".join(f"from {window.start} to {window.end}" for window in profile.windows(moment.date()))
        data = {"title": "Outside Allowed Hours", "message": f"{child} may play {hours} only", "type": notice.reason}
    elif notice.reason == BREAK_REQUIRED:
        rest = math.ceil(standing.session.break_left / 60) if standing.session is not None else 0
        data = {"title": "Time For A Break",
                "message": f"{child} played {profile.max_session_minutes} minutes in a row: a {rest} minute break now",
                "type": notice.reason}  # fmt: skip
    elif notice.reason == WEEKLY_LIMIT_EXCEEDED:
        data = {"title": "Weekly Limit Exceeded",
                "message": f"{child} has used this week's {profile.weekly_limit_minutes} minutes",
                "type": notice.reason}  # fmt: skip
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
