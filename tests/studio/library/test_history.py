"""Creation history: records added, listed newest first, searched with FTS5, exported to CSV."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.declared import Declared
from tests.studio.writers import killed_writer, live_writer
from tests.support import BackendProcess


def record(song_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "record": {
            "song_id": song_id,
            "title": "",
            "prompt_index": 0,
            "account_name": "main",
            "status": "completed",
            **fields,
        }
    }


@pytest.fixture
def main(studio: BackendProcess) -> BackendProcess:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    studio.ok("CREATE_ACCOUNT", {"name": "side"})
    return studio


def test_records_are_added_updated_and_listed_newest_first(main: BackendProcess) -> None:
    added = main.ok("ADD_CREATION_RECORD", record("s1", title="First", created_at="2025-01-01 09:00:00"))
    assert added == {
        "song_id": "s1",
        "title": "First",
        "prompt_index": 0,
        "account_name": "main",
        "status": "completed",
        "lyrics": "",
        "style": "",
        "tags": [],
        "queue_id": None,
        "error": None,
        "created_at": "2025-01-01 09:00:00",
        "updated_at": added["updated_at"],
    }
    main.ok("ADD_CREATION_RECORD", record("s2", title="Second", created_at="2025-01-02T09:00:00"))
    main.ok("ADD_CREATION_RECORD", record("s3", title="Side", account_name="SIDE", status="failed", error="captcha"))
    page = main.ok("GET_CREATION_HISTORY")
    assert [r["song_id"] for r in page["items"]] == ["s3", "s2", "s1"]
    assert page["items"][0]["account_name"] == "side"
    assert (len(page["items"]), page["has_more"], page["next_cursor"]) == (3, False, None)

    assert [r["song_id"] for r in main.ok("GET_CREATION_HISTORY", {"account_name": "main"})["items"]] == ["s2", "s1"]
    assert [r["song_id"] for r in main.ok("GET_CREATION_HISTORY", {"status": "failed"})["items"]] == ["s3"]
    first_page = main.ok("GET_CREATION_HISTORY", {"limit": 2})
    assert ([r["song_id"] for r in first_page["items"]], first_page["has_more"]) == (["s3", "s2"], True)
    second_page = main.ok("GET_CREATION_HISTORY", {"limit": 2, "cursor": first_page["next_cursor"]})
    assert ([r["song_id"] for r in second_page["items"]], second_page["has_more"]) == (["s1"], False)

    updated = main.ok("ADD_CREATION_RECORD", record("s1", title="First (final)", status="completed", style="rock"))
    assert (updated["title"], updated["style"], updated["created_at"]) == (
        "First (final)",
        "rock",
        "2025-01-01 09:00:00",
    )
    assert len(main.ok("GET_CREATION_HISTORY")["items"]) == 3, "a song_id is recorded once"


TRICKY = {  # what JSON escapes: quotes, backslashes, control characters; and text past ASCII
    "title": 'Say "hi" \\ C:\\dir',
    "lyrics": "line one\nline\ttwo\r\n\u00e9t\u00e9 \u2014 \U0001f3b5 \u2028 end",
    "style": "caf\u00e9, </script>",
    "tags": ['quote"d', "back\\slash", "\u00fcber"],
    "queue_id": "q-1",
    "error": 'timed out: "captcha"',
}


def test_listed_and_found_records_are_the_records_as_stored_field_for_field(main: BackendProcess) -> None:
    added = [
        main.ok("ADD_CREATION_RECORD", record("plain", title="Plain", created_at="2025-01-01 09:00:00")),
        main.ok("ADD_CREATION_RECORD", record("tricky", prompt_index=7, status="failed", **TRICKY)),
    ]
    newest_first = added[::-1]
    declared = Declared(main.ok("GET_SCHEMA"))
    for command_type, payload in [
        ("GET_CREATION_HISTORY", {}),
        ("GET_CREATION_HISTORY", {"account_name": "main", "limit": 5}),
        ("SEARCH_HISTORY", {"keyword": "caf"}),
        ("SEARCH_HISTORY", {"keyword": "plain"}),
    ]:
        page = main.ok(command_type, payload)
        expected = [r for r in newest_first if command_type == "GET_CREATION_HISTORY" or r["song_id"] in
                    {"caf": "tricky", "plain": "plain"}[payload["keyword"]]]  # fmt: skip
        assert [list(item.items()) for item in page["items"]] == [list(r.items()) for r in expected], command_type
        assert declared.problems(command_type, "data", page) == [], "the type GET_SCHEMA declares"
    assert main.ok("GET_CREATION_HISTORY")["items"][0]["tags"] == TRICKY["tags"], "tags: the list sent"


def answer_order(main: BackendProcess, status: str) -> tuple[list[str], dict[str, Any]]:
    """The ids of a page of ``status``, a PING and a cheap page, sent in one write, in the order answered; and the
    first page's data."""
    lines = [
        {"id": "filtered", "type": "GET_CREATION_HISTORY", "payload": {"status": status, "limit": 1}},
        {"id": "ping", "type": "PING", "payload": {}},
        {"id": "newest", "type": "GET_CREATION_HISTORY", "payload": {"account_name": "main", "limit": 1}},
    ]
    main.send_raw(b"".join(json.dumps(line).encode() + b"\n" for line in lines))  # one write: read at once
    answers: dict[str, dict[str, Any]] = {}
    while len(answers) < len(lines):
        message = main.next_message()
        if "seq" not in message:  # not an event (the records' STATE_CHANGED)
            answers[message["id"]] = message
    return list(answers), answers["filtered"]["data"]


def add_records(main: BackendProcess, count: int, status: str) -> None:
    ids = [main.send("ADD_CREATION_RECORD", record(f"s{i:04}", status=status)) for i in range(count)]
    for command_id in ids:
        assert main.response(command_id)["success"] is True


def test_a_page_too_long_for_the_event_loop_is_read_in_a_worker_thread(main: BackendProcess) -> None:
    """A page that must look among many records for a few completed ones moves to a worker thread, and the commands
    sent after it are answered without waiting for it."""
    main.ok("ADD_CREATION_RECORD", record("old-success", created_at="2020-01-01 00:00:00"))
    add_records(main, 1_000, "failed")
    order, page = answer_order(main, "completed")
    assert order == ["ping", "newest", "filtered"]
    assert ([r["song_id"] for r in page["items"]], page["has_more"]) == (["old-success"], False)


@pytest.mark.parametrize("status", ["failed", "pending", "cancelled"])
def test_a_status_few_records_have_is_found_by_index_on_the_event_loop(main: BackendProcess, status: str) -> None:
    """Every status but completed has an index: a rare one among many completed records is a page read at once,
    answered in the order sent (a worker thread would answer the PING first)."""
    main.ok("ADD_CREATION_RECORD", record("old-one", status=status, created_at="2020-01-01 00:00:00"))
    add_records(main, 1_000, "completed")
    order, page = answer_order(main, status)
    assert order == ["filtered", "ping", "newest"]
    assert ([(r["song_id"], r["status"]) for r in page["items"]], page["has_more"]) == ([("old-one", status)], False)


def test_a_record_is_validated(main: BackendProcess) -> None:
    invalid = [
        ("$.record", {"record": {"title": "t", "prompt_index": 0, "account_name": "main", "status": "completed"}}),
        ("$.record.song_id", record("")),
        ("$.record.status", record("s", status="done")),
        ("$.record.prompt_index", record("s", prompt_index=-1)),
        ("$.record.title", record("s", title="bad\x00title")),
        ("$.record.account_name", record("s", account_name="../main")),
        ("$.record.created_at", record("s", created_at="not a time")),
        ("$.record.tags", record("s", tags="rock")),
        ("$.record", {"record": "s1"}),
    ]
    for field, payload in invalid:
        response = main.error("ADD_CREATION_RECORD", payload)
        assert response["error_code"] == "INVALID_PAYLOAD", field
        assert response["details"]["fields"] == [field], response
    assert "song_id" in main.error("ADD_CREATION_RECORD", invalid[0][1])["error"]
    assert main.error("ADD_CREATION_RECORD", record("s", account_name="ghost"))["error_code"] == "ACCOUNT_NOT_FOUND"
    for query in ({"limit": 0}, {"limit": 1001}, {"cursor": "x y"}, {"status": "weird"}, {"account_name": "a/b"}):
        assert main.error("GET_CREATION_HISTORY", query)["error_code"] == "INVALID_PAYLOAD", query
    assert len(main.ok("GET_CREATION_HISTORY")["items"]) == 0


def test_search_is_case_and_accent_insensitive_over_title_lyrics_style_and_tags(main: BackendProcess) -> None:
    main.ok("ADD_CREATION_RECORD", record("title", title="Café Nights"))
    main.ok("ADD_CREATION_RECORD", record("lyrics", lyrics="[Verse]\nDancing in the RAIN"))
    main.ok("ADD_CREATION_RECORD", record("style", style="Synthwave, 80s"))
    main.ok("ADD_CREATION_RECORD", record("tags", tags=["lo-fi", "study"], account_name="side"))

    def found(keyword: str, **extra: Any) -> list[str]:
        return sorted(r["song_id"] for r in main.ok("SEARCH_HISTORY", {"keyword": keyword, **extra})["items"])

    assert found("cafe") == ["title"]
    assert found("CAFÉ nights") == ["title"]
    assert found("rain") == ["lyrics"]
    assert found("danc") == ["lyrics"], "words match by prefix"
    assert found("synthwave") == ["style"]
    assert found("study") == ["tags"]
    assert found("lo-fi") == ["tags"]
    assert found("study", account_name="main") == []
    assert found("nights rain") == [], "every word must match"
    assert main.ok("SEARCH_HISTORY", {"keyword": "a", "limit": 1})["limit"] == 1


def test_search_treats_any_keyword_as_text(main: BackendProcess) -> None:
    main.ok("ADD_CREATION_RECORD", record("quoted", title='He said "stop" OR "go"'))
    hostile = [
        '"',
        '""',
        "'",
        "*",
        "-",
        "^",
        ":",
        "(",
        ")",
        "NEAR(a b)",
        "a OR b",
        "NOT",
        "AND",
        "title:stop",
        "'; DROP TABLE creation_records; --",
        '" OR 1=1 --',
        "%",
        "_",
        "\\",
        "{title lyrics}: x",
        "stop*",
        "🎵",
        "日本語",
        "x" * 200,
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    ]
    for keyword in hostile:
        response = main.call("SEARCH_HISTORY", {"keyword": keyword})
        assert response["success"] is True, (keyword, response)
    assert [r["song_id"] for r in main.ok("SEARCH_HISTORY", {"keyword": '"stop" OR'})["items"]] == ["quoted"]
    assert len(main.ok("GET_CREATION_HISTORY")["items"]) == 1, "the table is still there"
    for bad in ["", "   ", "new\nline", "x" * 201]:
        response = main.error("SEARCH_HISTORY", {"keyword": bad})
        assert response["error_code"] == "INVALID_PAYLOAD", bad
        assert response["details"]["fields"] == ["$.keyword"]


def test_export_writes_a_csv_that_spreadsheets_read(main: BackendProcess, tmp_path: Path) -> None:
    main.ok(
        "ADD_CREATION_RECORD",
        record("s1", title='Ça, c\'est "la" vie', lyrics="line one\nline two", created_at="2025-01-01 10:00:00"),
    )
    main.ok(
        "ADD_CREATION_RECORD",
        record(
            "s2",
            title='=HYPERLINK("http://evil")',
            tags=["-a", 'say "hi"', "back\\slash", "=b"],
            account_name="side",
            created_at="2025-01-02 10:00:00",
        ),
    )
    main.ok("ADD_CREATION_RECORD", record("s3", tags=["+1 vote", "pop"], created_at="2025-01-03 10:00:00"))
    main.ok("ADD_CREATION_RECORD", record("s4", tags=['"=quoted"', "\\=x"], created_at="2025-01-04 10:00:00"))
    target = tmp_path / "history.csv"

    assert main.ok("EXPORT_HISTORY_TO_CSV", {"output_path": str(target)}) == {"output_path": str(target), "rows": 4}
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a BOM, so spreadsheet programs read UTF-8"
    assert b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [r["song_id"] for r in rows] == ["s1", "s2", "s3", "s4"], "oldest first"
    assert rows[0]["title"] == 'Ça, c\'est "la" vie'
    assert rows[0]["lyrics"] == "line one\nline two"
    assert rows[0]["created_at"] == "2025-01-01 10:00:00"
    assert rows[1]["title"] == '\'=HYPERLINK("http://evil")', "formulas are not run by the spreadsheet"
    assert rows[1]["tags"] == '\'-a, say "hi", back\\slash, =b', "joined by ', ', then made formula-safe"
    assert (rows[2]["tags"], rows[3]["tags"]) == ("'+1 vote, pop", '"=quoted", \\=x'), "by the first tag's start"
    assert (rows[0]["tags"], rows[0]["queue_id"], rows[0]["prompt_index"]) == ("", "", "0")
    assert list(rows[0]) == [
        "created_at",
        "song_id",
        "title",
        "account_name",
        "status",
        "prompt_index",
        "style",
        "tags",
        "lyrics",
        "queue_id",
        "error",
        "updated_at",
    ]

    refused = main.error("EXPORT_HISTORY_TO_CSV", {"output_path": str(target)})
    assert refused["error_code"] == "INVALID_PAYLOAD"
    assert "overwrite" in refused["error"]
    only_side = main.ok(
        "EXPORT_HISTORY_TO_CSV",
        {"output_path": str(target), "overwrite": True, "account_name": "side", "escape_formulas": False},
    )
    assert only_side["rows"] == 1
    (row,) = csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"), newline=""))
    assert row["title"] == '=HYPERLINK("http://evil")'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "history.csv"], "no temporary file is left"


def test_export_refuses_paths_it_cannot_or_should_not_write(main: BackendProcess, tmp_path: Path) -> None:
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    cases = [
        "relative.csv",
        "~/history.csv",
        str(tmp_path / "notes.txt"),
        str(tmp_path / "no-extension"),
        str(tmp_path / "missing" / "history.csv"),
        str(tmp_path / "notes.txt" / "history.csv"),
        str(tmp_path / "folder.csv"),
        "/path/to/export.csv",
    ]
    if sys.platform == "linux":
        cases.append("/proc/history.csv")  # a folder no one can write to, even root
    for path in cases:
        response = main.error("EXPORT_HISTORY_TO_CSV", {"output_path": path, "overwrite": True})
        assert response["error_code"] == "INVALID_PAYLOAD", path
        assert response["details"]["fields"] == ["$.output_path"], path
    assert (
        main.error("EXPORT_HISTORY_TO_CSV", {"output_path": str(tmp_path / "x\n.csv")})["error_code"]
        == "INVALID_PAYLOAD"
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "folder.csv", "notes.txt"]


def test_an_export_removes_what_a_killed_export_to_that_target_left_and_nothing_else(
    main: BackendProcess, tmp_path: Path
) -> None:
    main.ok("ADD_CREATION_RECORD", record("s1", title="First"))
    out = tmp_path / "exports"
    out.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("precious")
    killed_writer(out / ".history.k1ll3d_a.tmp", "song_id,title\r\ns0,half a ro")
    (out / ".history.n0wr1ter.tmp").write_text("a leftover whose writer is long gone")
    (out / ".history.symlink_.tmp").symlink_to(precious)
    (out / ".history.hardlink.tmp").hardlink_to(precious)
    (out / ".history.folder__.tmp").mkdir()
    others = {
        ".history.tmp": "no random part",
        ".history.abc.tmp": "not a name the export makes",
        ".history.abcdefgh.tmp.bak": "another suffix",
        ".other.abcdefgh.tmp": "another target's",
        "history.abcdefgh.tmp": "not hidden",
        "notes.txt": "mine",
    }
    for name, text in others.items():
        (out / name).write_text(text)
    target = out / "history.csv"

    with live_writer(out / ".history.writing.tmp", "an export running now"):
        assert main.ok("EXPORT_HISTORY_TO_CSV", {"output_path": str(target)})["rows"] == 1
        assert (out / ".history.writing.tmp").read_text() == "an export running now", "a locked one is left"

    assert "s1" in target.read_text(encoding="utf-8-sig")
    assert not (out / ".history.k1ll3d_a.tmp").exists()
    assert not (out / ".history.n0wr1ter.tmp").exists()
    assert (out / ".history.symlink_.tmp").is_symlink()
    assert (out / ".history.hardlink.tmp").read_text() == precious.read_text() == "precious"
    assert (out / ".history.folder__.tmp").is_dir()
    assert {name: (out / name).read_text() for name in others} == others
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*others, "history.csv", ".history.writing.tmp", ".history.symlink_.tmp", ".history.hardlink.tmp",
         ".history.folder__.tmp"]
    )  # fmt: skip
