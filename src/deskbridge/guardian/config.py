"""The guardian's configuration: seed 004's JSON, extended, and refused at start when wrong.

Every key is typed and unknown keys are errors, because a typo in a limit must
not silently become "no limit". The message names the key
(``guardian config: Expected `int` >= 0 - at `$.children.alice.daily_limit_minutes```).
Top-level keys the core reads (``events``, ``web``) or named after another
app (``"studio": {...}``) are not the guardian's and are left alone, so one
file can configure a backend serving both apps behind every door.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

import msgspec

from deskbridge.app import BUILTIN_APPS, available_apps
from deskbridge.config import CORE_SECTIONS, convert

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: Final[tuple[Weekday, ...]] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Minutes = Annotated[int, msgspec.Meta(ge=0, le=1440)]
PositiveMinutes = Annotated[int, msgspec.Meta(ge=1, le=1440)]
ChildName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
ProcessName = Annotated[str, msgspec.Meta(min_length=1, max_length=260)]

DEFAULT_CHILD: Final = "default_child"
DEFAULT_BREAK_MINUTES: Final = 15


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class WebSocketConfig(_Strict):
    enabled: bool = True
    host: str = "localhost"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8001


class HttpPollingConfig(_Strict):
    enabled: bool = True
    interval: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 2.0


class DesktopClientConfig(_Strict):
    """Seed 004's ``desktop_client`` block, as the seed writes it."""

    websocket: WebSocketConfig = msgspec.field(default_factory=WebSocketConfig)
    http_polling: HttpPollingConfig = msgspec.field(default_factory=HttpPollingConfig)
    require_token: bool = True
    """False: a loopback client reaches the seed's desktop endpoints and the WebSocket at ``/`` without the
    token, as the seed's client does; any local program then can too (docs/guardian.md says what it costs)."""


class RobloxLogsConfig(_Strict):
    """Following Roblox's own log (:mod:`.roblox_logs`): which game, and in-game time apart from the home screen."""

    enabled: bool = True
    folders: tuple[Annotated[str, msgspec.Meta(min_length=1, max_length=1024)], ...] = ()
    """Log folders to follow; empty: this account's, where the platform has one (``~`` and variables expanded)."""
    count_home_screen: bool = True
    """False: while the log says the child is in the app's home screen (no game joined), time is not counted. The
    log is the child's to write, so this trusts it (docs/guardian.md)."""


class MonitorConfig(_Strict):
    process_names: tuple[ProcessName, ...] = ()
    """Names that mean "the game is running" besides the platform table's (:mod:`.platforms`), matched
    case-insensitively against a process's name and its executable's base name."""
    close_also: tuple[ProcessName, ...] = ()
    """Closed together with the game, never counted as playing (besides the table's launchers and crash handlers)."""
    install_dirs: tuple[ProcessName, ...] = ()
    """Folders besides the table's where any executable is the game (a renamed copy of the player)."""
    poll_interval: Annotated[float, msgspec.Meta(ge=0.05, le=60)] = 1.0
    roblox_logs: RobloxLogsConfig = msgspec.field(default_factory=RobloxLogsConfig)
    max_stops_per_day: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 3
    """More stops of the guardian than this in a day (killed, crashed, or stopped cleanly) are told to the parent."""


class AllowedHours(_Strict):
    """A daily window, local time; ``start`` after ``end`` crosses midnight (22:00-02:00)."""

    start: ClockTime
    end: ClockTime

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("allowed_hours needs a start and an end that differ (leave it out to allow any time)")

    def seconds_left(self, moment: datetime) -> float:
        """Seconds until the window closes, or 0 when ``moment`` is outside it."""
        start, end = minute_of_day(self.start), minute_of_day(self.end)
        now = moment.hour * 60 + moment.minute + moment.second / 60 + moment.microsecond / 60e6
        inside = start <= now < end if start < end else now >= start or now < end
        return ((end - now) % 1440) * 60 if inside else 0.0


def minute_of_day(clock_time: str) -> int:
    hours, minutes = clock_time.split(":")
    return int(hours) * 60 + int(minutes)


Windows = Annotated[tuple[AllowedHours, ...], msgspec.Meta(min_length=1, max_length=24)]


class ChildProfile(_Strict):
    daily_limit_minutes: Minutes = 120
    weekday_limits: dict[Weekday, Minutes] = {}
    """Limits for particular days (``{"saturday": 180}``); other days use ``daily_limit_minutes``."""
    allowed_hours: AllowedHours | Windows | None = None
    """One window (``{"start": "16:00", "end": "20:00"}``) or several (``[{...}, {...}]``); none: any time."""
    weekday_allowed_hours: dict[Weekday, Windows] = {}
    """Windows for particular days; other days use ``allowed_hours``."""
    weekly_limit_minutes: Annotated[int, msgspec.Meta(ge=0, le=7 * 1440)] | None = None
    """Play from Monday to Sunday (the day's zone); none: no weekly limit."""
    max_session_minutes: PositiveMinutes | None = None
    """Longest play without a break: then the game closes until ``break_minutes`` passed without playing."""
    break_minutes: PositiveMinutes | None = None
    """The required break (default 15 with ``max_session_minutes``); a pause in play this long also starts a new
    count of the longest session."""
    warning_minutes: tuple[PositiveMinutes, ...] = (15, 5)
    countdown_seconds: tuple[Annotated[int, msgspec.Meta(ge=1, le=3600)], ...] = (30, 10)
    """The final countdown: a notification this many seconds before a blocked game is closed (within the grace)."""
    auto_close: bool = True
    grace_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 60.0

    def __post_init__(self) -> None:
        if self.max_session_minutes is None and self.break_minutes is not None:
            raise ValueError("break_minutes needs max_session_minutes (the longest play before the break)")

    def break_seconds(self) -> float:
        return (self.break_minutes or DEFAULT_BREAK_MINUTES) * 60.0

    def limit_minutes(self, day: date) -> int:
        return self.weekday_limits.get(WEEKDAYS[day.weekday()], self.daily_limit_minutes)

    def windows(self, day: date) -> tuple[AllowedHours, ...]:
        """The day's allowed hours; empty: any time."""
        found = self.weekday_allowed_hours.get(WEEKDAYS[day.weekday()], self.allowed_hours)
        if found is None:
            return ()
        return found if isinstance(found, tuple) else (found,)


class SyncConfig(_Strict):
    retry_seconds: Annotated[float, msgspec.Meta(gt=0, le=86400)] = 30.0
    """First wait before an unconfirmed sync request is raised again; doubles each time."""
    max_retry_seconds: Annotated[float, msgspec.Meta(gt=0, le=86400)] = 3600.0


def _default_children() -> dict[str, ChildProfile]:
    return {DEFAULT_CHILD: ChildProfile()}


class GuardianConfig(_Strict):
    desktop_client: DesktopClientConfig = msgspec.field(default_factory=DesktopClientConfig)
    monitor: MonitorConfig = msgspec.field(default_factory=MonitorConfig)
    children: dict[ChildName, ChildProfile] = msgspec.field(default_factory=_default_children)
    active_child: ChildName = DEFAULT_CHILD
    """Whose games count when ``users`` is empty."""
    users: dict[Annotated[str, msgspec.Meta(min_length=1, max_length=256)], ChildName] = {}
    """OS user -> child profile: each game counts for, and is closed for, the child whose account runs it; a game
    of an account not listed (a parent's) is neither. Empty: every game is ``active_child``'s."""
    timezone: str | None = None
    """IANA name (``Europe/Paris``) of the zone whose midnight ends a day; default: the system's."""
    sync: SyncConfig = msgspec.field(default_factory=SyncConfig)

    def __post_init__(self) -> None:
        if self.active_child not in self.children:
            known = ", ".join(sorted(self.children)) or "none"
            raise ValueError(f"active_child {self.active_child!r} is not one of children ({known})")
        for user, child in self.users.items():
            if child not in self.children:
                known = ", ".join(sorted(self.children)) or "none"
                raise ValueError(f"users maps {user!r} to {child!r}, which is not one of children ({known})")
        if self.timezone is not None:
            try:
                zoneinfo.ZoneInfo(self.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"timezone {self.timezone!r} is not a known IANA time zone") from None

    def zone(self) -> zoneinfo.ZoneInfo | None:
        """The configured zone, or None for the system's local time (DST rules included)."""
        return zoneinfo.ZoneInfo(self.timezone) if self.timezone is not None else None


def load(raw: Mapping[str, Any]) -> GuardianConfig:
    """Validate the backend's config; raises :class:`~deskbridge.config.ConfigError` naming the first bad key."""
    foreign = CORE_SECTIONS | (set(BUILTIN_APPS) - {"guardian"})
    if set(raw) - foreign - set(GuardianConfig.__struct_encode_fields__):  # another installed app's section?
        foreign |= set(available_apps()) - {"guardian"}  # reading installed apps costs ~20 ms: only then
    ours = {key: value for key, value in raw.items() if key not in foreign}
    children = ours.get("children")
    if isinstance(children, dict):
        # msgspec reports a bad value inside a dict as `$.children[...]`: check
        # each profile alone first so the message names the child.
        for name, profile in children.items():
            convert(profile, ChildProfile, owner="guardian", where=f"$.children.{name}")
    return convert(ours, GuardianConfig, owner="guardian", where="$")
