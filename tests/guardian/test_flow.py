"""Seed 004's flow over the stdio door, with a real game process.

Roblox starts → Python detects it → ``roblox_started`` → the mobile app's
``force_close`` arrives through ``/desktop/command`` → Python kills the game →
``roblox_stopped``; and what the desktop missed while away waits for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.guardian.conftest import Games
from tests.support import BackendProcess

Start = Callable[..., BackendProcess]


def roblox(event_type: str, pid: int) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("event_type") == event_type and e["data"]["process_info"]["pid"] == pid


def session(event_type: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("event_type") == event_type


def test_the_seed_flow_start_event_force_close_stop_event(guardian_backend: Start, games: Games) -> None:
    name = games.unique()
    backend = guardian_backend({"monitor": {"process_names": [name]}})
    backend.ok("DESKTOP_CONNECT", {})

    game = games.start(name)
    started = backend.wait_event(roblox("roblox_started", game.pid), timeout=10)
    assert started["type"] == "roblox_event"
    assert started["data"]["process_info"]["name"] == name
    session_started = backend.wait_event(session("session_started"))

    answer = backend.ok("DESKTOP_COMMAND", {"command": "force_close", "params": {}})

    closed = [started["data"]["process_info"]]
    assert answer == {"success": True, "result": {"closed": closed, "count": 1, "closed_until": None}}
    stopped = backend.wait_event(roblox("roblox_stopped", game.pid), timeout=10)
    ended = backend.wait_event(session("session_ended"))
    request = backend.wait_event(lambda e: e["type"] == "firebase_sync_request" and e["data"]["data_type"] == "session")
    assert ended["data"]["session_data"]["session_id"] == session_started["data"]["session_data"]["session_id"]
    assert request["data"]["data"] == ended["data"]["session_data"]
    seqs = [e["seq"] for e in (started, session_started, stopped, ended, request)]
    assert seqs == sorted(seqs)
    assert game.wait(timeout=5) != 0


def test_what_happens_while_the_desktop_is_away_waits_for_it(guardian_backend: Start, games: Games) -> None:
    name = games.unique()
    backend = guardian_backend({"monitor": {"process_names": [name]}, "sync": {"retry_seconds": 0.3}})
    client_id = backend.ok("DESKTOP_CONNECT", {})["client_id"]
    cursor = backend.ok("GET_EVENTS", {"after": 0})
    backend.ok("DESKTOP_DISCONNECT", {"client_id": client_id})

    game = games.start(name)  # the child plays while the desktop app is closed
    backend.wait_event(session("session_started"), timeout=10)
    games.stop(game)
    request = backend.wait_event(lambda e: e["type"] == "firebase_sync_request", timeout=10)
    again = backend.wait_event(lambda e: e["type"] == "firebase_sync_request" and e["data"]["attempt"] == 2)

    # The desktop comes back: it resumes from its cursor and finds the sync request still queued.
    backend.ok("DESKTOP_CONNECT", {"client_id": client_id})
    missed = backend.ok("GET_EVENTS", {"epoch": cursor["epoch"], "after": cursor["last_seq"]})
    assert missed["recovered"] is True
    kinds = [e.get("event_type", e["type"]) for e in missed["events"]]
    assert kinds[:5] == [
        "roblox_started",
        "session_started",
        "roblox_stopped",
        "session_ended",
        "firebase_sync_request",
    ]
    sync_id = request["data"]["sync_id"]
    assert again["data"]["sync_id"] == sync_id
    assert [item["sync_id"] for item in backend.ok("DESKTOP_QUEUE_SESSIONS")["sessions"]] == [sync_id]

    assert backend.ok("SYNC_CONFIRM", {"sync_id": sync_id})["status"] == "confirmed"
    assert backend.ok("DESKTOP_QUEUE_SESSIONS") == {"sessions": [], "count": 0}
    assert backend.ok("DESKTOP_STATUS")["unsynced"] == {}


def test_a_game_is_detected_within_one_poll(guardian_backend: Start, games: Games) -> None:
    name = games.unique()
    backend = guardian_backend({"monitor": {"process_names": [name], "poll_interval": 0.1}})
    backend.ok("PING")
    time.sleep(0.2)  # past the first poll

    launched = time.monotonic()
    game = games.start(name)
    backend.wait_event(roblox("roblox_started", game.pid), timeout=10)

    assert time.monotonic() - launched < 0.1 + 0.4  # a poll, plus room for a busy test machine


def test_past_the_limit_the_game_is_closed_and_closed_again(guardian_backend: Start, games: Games) -> None:
    name = games.unique()
    config = {"monitor": {"process_names": [name]}, "children": {"kid": {"daily_limit_minutes": 0, "grace_seconds": 0}}}
    backend = guardian_backend({**config, "active_child": "kid"})

    first = games.start(name)
    notice = backend.wait_event(lambda e: e["type"] == "notification", timeout=10)
    backend.wait_event(roblox("roblox_auto_closed", first.pid))
    backend.wait_event(roblox("roblox_stopped", first.pid))
    second = games.start(name)
    backend.wait_event(roblox("roblox_auto_closed", second.pid), timeout=10)

    assert notice["data"]["type"] == "time_limit_exceeded"
    assert notice["data"]["message"] == "kid has exceeded 0 minute limit"
    assert second.wait(timeout=5) != 0


def test_killed_mid_session_the_guardian_resumes_it(guardian_backend: Start, games: Games, tmp_path: Path) -> None:
    name = games.unique()
    config = {"monitor": {"process_names": [name]}}
    first = guardian_backend(config, data_dir=tmp_path / "data")
    game = games.start(name)
    session_id = first.wait_event(session("session_started"), timeout=10)["data"]["session_data"]["session_id"]
    time.sleep(1.5)
    first.kill()  # SIGKILL: no chance to save anything more

    second = guardian_backend(config, data_dir=tmp_path / "data")
    today = second.ok("GET_USAGE")["children"]["default_child"]["today"]
    games.stop(game)
    ended = second.wait_event(session("session_ended"), timeout=10)

    assert today["seconds_used"] >= 1
    assert ended["data"]["session_data"]["session_id"] == session_id
    assert not any(e.get("event_type") in ("roblox_started", "session_started") for e in second.events)
    history = [e.get("event_type") for e in second.ok("GET_EVENTS", {"after": 0})["events"]]
    assert history[:2] == ["roblox_started", "session_started"]  # the first run's events, kept on disk


def test_the_guardian_stops_cleanly_and_leaves_the_game_alone(guardian_backend: Start, games: Games) -> None:
    name = games.unique()
    backend = guardian_backend({"monitor": {"process_names": [name]}})
    game = games.start(name)
    backend.wait_event(session("session_started"), timeout=10)

    assert backend.close() == 0  # EOF on stdin: a graceful shutdown
    assert game.poll() is None
