"""Listings that grow with the data page by keyset: the seed's payloads still get every item while it fits."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support import BackendProcess

MAX_ITEMS = 1_000
BIG_LYRICS = "la " * 6_000  # ~18 kB: 60 records are past the 1 MiB bound of one page


def record(song_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "record": {"song_id": song_id, "title": song_id, "prompt_index": 0, "account_name": "main",
                   "status": "completed", **fields}
    }  # fmt: skip


def pipelined(backend: BackendProcess, commands: list[tuple[str, dict[str, Any]]]) -> None:
    """Send every command before reading an answer (a thousand round trips would be slow)."""
    ids = [backend.send(command_type, payload) for command_type, payload in commands]
    for command_id in ids:
        assert backend.response(command_id)["success"] is True


def walk(backend: BackendProcess, command_type: str, payload: dict[str, Any], between: Any = None) -> list[Any]:
    """Every item of a listing, page by page; ``between(n)`` runs after page n."""
    items: list[Any] = []
    cursor = None
    while True:
        page = backend.ok(command_type, {**payload, **({"cursor": cursor} if cursor else {})})
        items += page["items"]
        assert page["has_more"] is (page["next_cursor"] is not None)
        if not page["has_more"]:
            return items
        cursor = page["next_cursor"]
        if between:
            between(len(items))


@pytest.fixture
def main(studio: BackendProcess) -> BackendProcess:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    return studio


def test_the_seeds_payloads_get_every_item_in_the_seeds_shape_while_it_fits(main: BackendProcess) -> None:
    main.ok("CREATE_ACCOUNT", {"name": "side"})
    pipelined(main, [("ADD_CREATION_RECORD", record(f"s{i}")) for i in range(3)])
    main.ok("RECORD_DOWNLOADS", {"account_name": "main", "clips": [{"id": "c1"}, {"id": "c2"}]})

    accounts = main.ok("GET_ACCOUNTS", {})
    assert [account["name"] for account in accounts] == ["main", "side"], "a plain list, as the seed's front end reads"
    assert main.ok("GET_QUEUES", {}) == []
    for command_type, payload, count in [
        ("GET_CREATION_HISTORY", {"account_name": "main"}, 3),
        ("SEARCH_HISTORY", {"keyword": "s1"}, 1),
        ("GET_DOWNLOAD_HISTORY", {"account_name": "main"}, 2),
    ]:
        page = main.ok(command_type, payload)
        assert (len(page["items"]), page["has_more"], page["next_cursor"]) == (count, False, None), command_type
        assert page["limit"] == MAX_ITEMS, "the documented default"

    paged = main.ok("GET_ACCOUNTS", {"limit": 1})
    assert ([account["name"] for account in paged["items"]], paged["has_more"]) == (["main"], True)
    assert [account["name"] for account in walk(main, "GET_ACCOUNTS", {"limit": 1})] == ["main", "side"]


def test_past_the_bound_the_seeds_payload_gets_the_first_page_and_a_cursor(main: BackendProcess) -> None:
    pipelined(main, [("CREATE_ACCOUNT", {"name": f"a{i:04}"}) for i in range(MAX_ITEMS)])
    first = main.ok("GET_ACCOUNTS", {})
    assert (len(first["items"]), first["has_more"]) == (MAX_ITEMS, True), "past 1,000 accounts: a page, not a list"
    rest = main.ok("GET_ACCOUNTS", {"cursor": first["next_cursor"]})
    assert ([account["name"] for account in rest["items"]], rest["has_more"]) == (["main"], False)

    pipelined(main, [("ADD_CREATION_RECORD", record(f"big{i:02}", lyrics=BIG_LYRICS)) for i in range(60)])
    page = main.ok("GET_CREATION_HISTORY", {"account_name": "main"})
    assert page["has_more"] is True
    assert 50 <= len(page["items"]) < 60, "a page holds at most 1 MiB of records"
    songs = [r["song_id"] for r in walk(main, "GET_CREATION_HISTORY", {"limit": 1000})]
    assert sorted(songs) == [f"big{i:02}" for i in range(60)], "each once"
    found = main.ok("SEARCH_HISTORY", {"keyword": "la"})
    assert (found["has_more"], 50 <= len(found["items"]) < 60) == (True, True), "search pages by the bound too"
    assert sorted(r["song_id"] for r in walk(main, "SEARCH_HISTORY", {"keyword": "la"})) == sorted(songs)


def test_cursors_are_stable_while_records_are_added(main: BackendProcess) -> None:
    pipelined(main, [("ADD_CREATION_RECORD", record(f"s{i:02}", created_at=f"2025-01-{i + 1:02} 09:00:00",
                                                    style="rock")) for i in range(10)])  # fmt: skip
    main.ok("RECORD_DOWNLOADS", {"account_name": "main", "clips": [{"id": f"c{i}"} for i in range(10)]})
    added = iter(range(100))

    def add_more(_: int) -> None:
        n = next(added)
        main.ok("ADD_CREATION_RECORD", record(f"new{n}", style="rock"))  # newest: before the cursor
        main.ok("ADD_CREATION_RECORD", record(f"old{n}", style="rock", created_at="2020-01-01 00:00:00"))
        main.ok("RECORD_DOWNLOADS", {"account_name": "main", "clips": [{"id": f"new{n}"}]})
        main.ok("CREATE_ACCOUNT", {"name": f"z{n}"})
        main.ok("CREATE_ACCOUNT", {"name": f"0{n}"})

    history = [r["song_id"] for r in walk(main, "GET_CREATION_HISTORY", {"limit": 3}, add_more)]
    assert history[:10] == [f"s{i:02}" for i in reversed(range(10))], "nothing shifted, nothing sent twice"
    assert sorted(history[10:]) == ["old0", "old1", "old2"], "records older than the cursor come later, once"

    for command_type, payload in [
        ("SEARCH_HISTORY", {"keyword": "rock"}),
        ("GET_DOWNLOAD_HISTORY", {"account_name": "main"}),
    ]:  # newest recorded first: whatever is added while paging comes before the cursor
        before = main.ok(command_type, payload)["items"]
        assert walk(main, command_type, {**payload, "limit": 4}, add_more) == before, command_type

    before = [a["name"] for a in main.ok("GET_ACCOUNTS", {})]
    names = [a["name"] for a in walk(main, "GET_ACCOUNTS", {"limit": 2}, add_more)]
    assert names == sorted(set(names), key=str.lower), "in order, each once"
    assert set(before) <= set(names)


def forged(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).rstrip(b"=").decode()


def test_a_cursor_is_checked(main: BackendProcess) -> None:
    main.ok("CREATE_ACCOUNT", {"name": "side"})
    accounts_cursor = main.ok("GET_ACCOUNTS", {"limit": 1})["next_cursor"]
    for command_type, payload in [
        ("GET_CREATION_HISTORY", {"cursor": accounts_cursor}),
        ("GET_QUEUES", {"cursor": "bm90IGpzb24"}),
        ("SEARCH_HISTORY", {"keyword": "x", "cursor": "W10"}),
        ("GET_DOWNLOAD_HISTORY", {"account_name": "main", "cursor": "***"}),
        ("GET_ACCOUNTS", {"cursor": ""}),
        ("GET_QUEUES", {"cursor": forged(["GET_QUEUES", 2**64])}),  # past SQLite's integers
        ("GET_QUEUES", {"cursor": forged(["GET_QUEUES", 1, 2])}),
        ("GET_ACCOUNTS", {"limit": 1001}),
    ]:
        error = main.error(command_type, payload)
        assert error["error_code"] == "INVALID_PAYLOAD", (command_type, payload)
        assert error["details"]["fields"][0] in ("$.cursor", "$.limit"), error
