"""The parent's remote commands: each its own command type, and all of them behind ``POST /desktop/command``.

The mobile app sends ``{"command": "force_close", "params": {...}}`` through
Firebase to the desktop client, which posts it here (seed 004, steps 6-9);
stdio clients may call ``FORCE_CLOSE`` and the others directly. Both paths run
the same handler after the same validation. Params are strict: a misspelt
``"minuts"`` is an error, not a silent default.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec

from deskbridge.app import Call
from deskbridge.changes import Changed
from deskbridge.errors import CommandError, ErrorCode
from deskbridge.guardian import events
from deskbridge.guardian.config import AllowedHours, ChildName, Minutes, PositiveMinutes, Weekday
from deskbridge.guardian.errors import GuardianError
from deskbridge.guardian.service import Guardian
from deskbridge.payloads import Payload
from deskbridge.router import Commands

REMOTE_COMMANDS: Final = {
    "force_close": "FORCE_CLOSE",
    "set_daily_limit": "SET_DAILY_LIMIT",
    "set_allowed_hours": "SET_ALLOWED_HOURS",
    "grant_bonus_time": "GRANT_BONUS_TIME",
    "take_time": "TAKE_TIME",
    "pause_monitoring": "PAUSE_MONITORING",
    "resume_monitoring": "RESUME_MONITORING",
    "get_usage": "GET_USAGE",
    "get_config": "GET_CONFIG",
    "ask_for_time": "ASK_FOR_TIME",
    "answer_time_request": "ANSWER_TIME_REQUEST",
}

PARENT_ONLY: Final = (
    "FORCE_CLOSE",
    "SET_DAILY_LIMIT",
    "SET_ALLOWED_HOURS",
    "GRANT_BONUS_TIME",
    "TAKE_TIME",
    "PAUSE_MONITORING",
    "RESUME_MONITORING",
    "GET_CONFIG",
    "ANSWER_TIME_REQUEST",
)
"""Refused to the desktop client's token (:mod:`deskbridge.roles`): only the parent's runs them, through any door,
``POST /desktop/command`` included. The child's client keeps status, events, usage and ASK_FOR_TIME."""


class _Params(Payload):
    pass


class NoParams(_Params):
    pass


class ForceCloseParams(_Params):
    child: ChildName | None = None
    """Default: every child's games."""
    until: Annotated[str, msgspec.Meta(pattern=r"^(tomorrow|([01][0-9]|2[0-3]):[0-5][0-9])$")] | None = None
    """``"tomorrow"`` (local midnight) or ``"HH:MM"`` (its next occurrence): a relaunch before then is closed at
    once. Default: close now only."""


class SetDailyLimitParams(_Params):
    minutes: Minutes
    child: ChildName | None = None
    """Default: the active child."""
    weekday: Weekday | None = None
    """Only this weekday; without it, today's and the default (other weekdays' own limits stay)."""


class SetAllowedHoursParams(_Params):
    windows: Annotated[tuple[AllowedHours, ...], msgspec.Meta(max_length=24)]
    """The windows (``[{"start": "16:00", "end": "20:00"}, ...]``). Empty: any time; with ``weekday``, that day
    follows the every-day windows again."""
    child: ChildName | None = None
    """Default: the active child."""
    weekday: Weekday | None = None
    """Only this weekday; without it, every day that has no windows of its own."""


class GrantBonusTimeParams(_Params):
    minutes: PositiveMinutes
    child: ChildName | None = None


class TakeTimeParams(GrantBonusTimeParams):
    """``minutes`` are taken from today's allowance."""


class PauseMonitoringParams(_Params):
    minutes: PositiveMinutes | None = None
    """Resume by itself after this long; without it, until RESUME_MONITORING."""


class GetUsageParams(_Params):
    child: ChildName | None = None
    """Default: every child."""


class AskForTimeParams(_Params):
    minutes: PositiveMinutes
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""
    child: ChildName | None = None
    """Default: the active child."""


class AnswerTimeRequestParams(_Params):
    request_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    grant: bool
    minutes: PositiveMinutes | None = None
    """With ``grant``: how many of the asked minutes (default all of them)."""


class DesktopCommandPayload(Payload):
    command: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class DesktopCommandAnswer(msgspec.Struct, omit_defaults=True):
    """Seed 004's answer to ``POST /desktop/command``: ``success`` and ``result``, or ``error``."""

    success: bool
    result: Any = None
    error: str | None = None
    error_code: str | None = None
    details: Any = None


def register(commands: Commands, guardian: Guardian, call: Call, changed: Changed) -> None:
    def child_named(name: str | None) -> str:
        child = guardian.child if name is None else name
        if child not in guardian.allowances:
            known = ", ".join(guardian.allowances.children())
            raise CommandError(
                GuardianError.CHILD_NOT_FOUND, f"no child profile {child!r}; known: {known}", {"child": child}
            )
        return child

    @commands.command("FORCE_CLOSE")
    def force_close(params: ForceCloseParams) -> dict[str, Any]:
        """Close the games now (whole process trees), and with ``until`` keep them closed; roblox_stopped follows.
        ``count`` is the games this call closed: one already gone is not counted."""
        child = None if params.child is None else child_named(params.child)
        closed, failed, held = guardian.force_close(child, params.until)
        if held is not None:
            changed("hold", "set", id=child, until=events.iso(held))
        infos = [events.process_info(info) for info in closed]
        if failed:
            raise CommandError(
                GuardianError.PROCESS_CLOSE_FAILED,
                f"could not close {', '.join(f'{info.name} ({info.pid})' for info in failed)}",
                {"closed": infos, "failed": [events.process_info(info) for info in failed]},
            )
        return {"closed": infos, "count": len(infos), "closed_until": None if held is None else events.iso(held)}

    @commands.command("SET_DAILY_LIMIT")
    def set_daily_limit(params: SetDailyLimitParams) -> dict[str, Any]:
        """Change a child's daily limit (kept across restarts; wins over the config file)."""
        child = child_named(params.child)
        profile = guardian.set_daily_limit(child, params.minutes, params.weekday)
        changed("limit", "set", id=child, minutes=params.minutes, weekday=params.weekday)
        return {
            "child_profile": child,
            "daily_limit_minutes": profile.daily_limit_minutes,
            "weekday_limits": profile.weekday_limits,
            "today": guardian.today(child),
        }

    @commands.command("SET_ALLOWED_HOURS")
    def set_allowed_hours(params: SetAllowedHoursParams) -> dict[str, Any]:
        """Change when a child may play (kept across restarts; wins over the config file); a game outside the new
        hours gets the usual notice and grace."""
        child = child_named(params.child)
        profile = guardian.set_allowed_hours(child, params.windows, params.weekday)
        hours = [msgspec.to_builtins(window) for window in params.windows]
        changed("hours", "set", id=child, windows=hours, weekday=params.weekday)
        return {
            "child_profile": child,
            "allowed_hours": msgspec.to_builtins(profile.allowed_hours),
            "weekday_allowed_hours": msgspec.to_builtins(profile.weekday_allowed_hours),
        }

    def change_today(name: str | None, minutes: int, said: str) -> dict[str, Any]:
        child = child_named(name)
        today = guardian.grant_bonus(child, minutes)
        changed("bonus", "granted" if minutes > 0 else "taken", id=child, minutes=abs(minutes))
        return {"child_profile": child, said: abs(minutes), "today": today}

    @commands.command("GRANT_BONUS_TIME")
    def grant_bonus_time(params: GrantBonusTimeParams) -> dict[str, Any]:
        """Add minutes to today's allowance; warnings re-arm and a closed game may start again."""
        return change_today(params.child, params.minutes, "granted_minutes")

    @commands.command("TAKE_TIME")
    def take_time(params: TakeTimeParams) -> dict[str, Any]:
        """Take minutes away from today's allowance (the limit applies at once, with its notice and grace)."""
        return change_today(params.child, -params.minutes, "taken_minutes")

    @commands.command("PAUSE_MONITORING")
    def pause_monitoring(params: PauseMonitoringParams) -> dict[str, Any]:
        """Stop counting time and enforcing limits (process events still flow)."""
        paused = guardian.pause(params.minutes)
        changed("monitoring", "paused", minutes=params.minutes)
        return paused

    @commands.command("RESUME_MONITORING")
    def resume_monitoring(params: NoParams) -> dict[str, Any]:
        """Count and enforce again."""
        resumed = guardian.resume()
        changed("monitoring", "resumed")
        return resumed

    @commands.command("GET_USAGE")
    def get_usage(params: GetUsageParams) -> dict[str, Any]:
        """Today and the 7 days before it, per child."""
        children = guardian.allowances.children() if params.child is None else [child_named(params.child)]
        return guardian.usage_report(children)

    @commands.command("GET_CONFIG")
    def get_config(params: NoParams) -> dict[str, Any]:
        """The configuration in force: the file, with the parent's remote limit changes."""
        return guardian.effective_config()

    @commands.command("ASK_FOR_TIME")
    def ask_for_time(params: AskForTimeParams) -> dict[str, Any]:
        """The child asks for more minutes today; the parent answers with ANSWER_TIME_REQUEST."""
        request = guardian.ask_for_time(child_named(params.child), params.minutes, params.reason)
        changed("time_request", "asked", id=request.request_id, child=request.child, minutes=request.minutes)
        return request.data()

    @commands.command("ANSWER_TIME_REQUEST")
    def answer_time_request(params: AnswerTimeRequestParams) -> dict[str, Any]:
        """Grant (all the asked minutes, or ``minutes``) or refuse a child's request, once."""
        minutes = 0
        if params.grant:
            minutes = params.minutes or guardian.time_requests.get(params.request_id).minutes
        request = guardian.answer_time_request(params.request_id, minutes)
        changed("time_request", "granted" if minutes else "refused", id=request.request_id, minutes=minutes)
        return request.data()

    @commands.command("DESKTOP_COMMAND")
    async def desktop_command(payload: DesktopCommandPayload) -> DesktopCommandAnswer:
        """POST /desktop/command: run one remote command; failures are answered, not raised."""
        command_type = REMOTE_COMMANDS.get(payload.command)
        if command_type is None:
            return DesktopCommandAnswer(
                False,
                error=f"unknown command {payload.command!r}; known: {', '.join(REMOTE_COMMANDS)}",
                error_code=ErrorCode.UNKNOWN_COMMAND,
            )
        try:
            return DesktopCommandAnswer(True, result=await call(command_type, payload.params))
        except CommandError as exc:
            if exc.code == ErrorCode.INVALID_PAYLOAD:  # the fields are the command's: under `params` here
                fields = [field.replace("$", "$.params", 1) for field in exc.details["fields"]]
                return DesktopCommandAnswer(
                    False, error=exc.message.replace("`$", "`$.params"), error_code=exc.code,
                    details={**exc.details, "fields": fields},
                )  # fmt: skip
            return DesktopCommandAnswer(False, error=exc.message, error_code=exc.code, details=exc.details)
