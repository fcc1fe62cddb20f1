"""One policy for every door: the router refuses an owner-only command to a client before its handler runs, on the
wire and when another command runs it (a relay cannot launder it)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from deskbridge import protocol
from deskbridge.caller import CALLER, Caller
from deskbridge.events import EventLog
from deskbridge.roles import AccessPolicy, Role
from deskbridge.router import Commands, Router


def test_a_client_is_refused_the_owners_commands_directly_and_through_a_relay(tmp_path: Path) -> None:
    ran: list[str] = []

    async def scenario() -> dict[str, dict[Role, dict[str, Any]]]:
        loop = asyncio.get_running_loop()
        log = EventLog(tmp_path / "events.db", schedule=loop.call_soon)
        commands = Commands()
        router: Router

        async def relay(payload: dict[str, Any]) -> Any:
            return await router.call("SECRET")

        commands.add("SECRET", lambda payload: ran.append("SECRET") or {"secret": 42})
        commands.add("OPEN", lambda payload: {"open": True})
        commands.add("RELAY", relay)
        answers: dict[str, dict[Role, dict[str, Any]]] = {}
        with ThreadPoolExecutor(2) as executor:
            router = Router(commands, loop, executor, log, access=AccessPolicy.of([("SECRET",)]))
            for role in (Role.CLIENT, Role.OWNER):
                CALLER.set(Caller("test", role=role))
                for command_type in ("SECRET", "OPEN", "RELAY"):
                    answer: asyncio.Future[bytes] = loop.create_future()
                    router.dispatch(protocol.encode({"id": "1", "type": command_type}), answer.set_result)
                    answers.setdefault(command_type, {})[role] = json.loads(await asyncio.wait_for(answer, 10))
        log.close()
        return answers

    answers = asyncio.run(scenario())
    assert answers["SECRET"][Role.CLIENT]["error_code"] == "PERMISSION_DENIED"
    assert answers["SECRET"][Role.CLIENT]["details"] == {"command": "SECRET", "role": "client"}
    assert answers["RELAY"][Role.CLIENT]["error_code"] == "PERMISSION_DENIED"
    assert answers["OPEN"][Role.CLIENT]["success"] is True
    assert answers["SECRET"][Role.OWNER]["data"] == {"secret": 42}
    assert answers["RELAY"][Role.OWNER]["data"] == {"secret": 42}
    assert ran == ["SECRET", "SECRET"], "the client's attempts never reached the handler"
