"""The prompt library: prompts added or imported from files, each used once by a queue."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support import BackendProcess


def test_prompts_are_added_listed_validated_and_deleted(studio: BackendProcess) -> None:
    added = studio.ok(
        "ADD_PROMPTS",
        {
            "prompts": [
                {"title": "One", "lyrics": "[Verse]\nline\n\tindented", "style": "Pop", "tags": ["happy", "summer"]},
                {"style": "ambient"},
                {"lyrics": "only lyrics"},
            ]
        },
    )
    assert (added["added"], added["available"], added["too_long"], added["too_long_prompts"]) == (3, 3, 0, [])
    first, second, third = added["prompt_ids"]

    page = studio.ok("GET_PROMPTS")
    assert page["total"] == 3
    assert page["items"][0] == {
        "prompt_id": first,
        "title": "One",
        "lyrics": "[Verse]\nline\n\tindented",
        "style": "Pop",
        "tags": ["happy", "summer"],
        "status": "available",
        "queue_id": None,
        "position": None,
        "created_at": page["items"][0]["created_at"],
        "used_at": None,
        "too_long": [],
    }
    assert [p["prompt_id"] for p in studio.ok("GET_PROMPTS", {"limit": 1, "offset": 1})["items"]] == [second]
    assert studio.ok("VALIDATE_PROMPTS", {"requested_total": 3}) == {
        "valid": True,
        "requested_total": 3,
        "available": 3,
        "missing": 0,
        "too_long": 0,
        "too_long_ids": [],
    }
    assert studio.ok("VALIDATE_PROMPTS", {"requested_total": 5})["missing"] == 2

    assert studio.ok("DELETE_PROMPT", {"prompt_id": third}) == {"prompt_id": third, "deleted": True}
    missing = studio.error("DELETE_PROMPT", {"prompt_id": third})
    assert missing["error_code"] == "INVALID_PAYLOAD"
    assert missing["details"]["fields"] == ["$.prompt_id"]
    assert studio.ok("GET_PROMPTS", {"status": "available"})["total"] == 2


def test_a_prompt_needs_lyrics_or_a_style_and_clean_bounded_text(studio: BackendProcess) -> None:
    cases = {
        "$.prompts[0]": {"prompts": [{"title": "only a title"}]},
        "$.prompts[1].title": {"prompts": [{"style": "ok"}, {"style": "x", "title": "a\nb"}]},
        "$.prompts[0].lyrics": {"prompts": [{"lyrics": "bell\x07"}]},
        "$.prompts[0].style": {"prompts": [{"style": "s" * 10_001}]},  # past any limit a config may set
        "$.prompts[0].tags[0]": {"prompts": [{"style": "s", "tags": [""]}]},
        "$.prompts": {"prompts": []},
        "$.requested_total": None,
    }
    for field, payload in cases.items():
        if payload is None:
            response = studio.error("VALIDATE_PROMPTS", {"requested_total": 0})
        else:
            response = studio.error("ADD_PROMPTS", payload)
        assert response["error_code"] == "INVALID_PAYLOAD", field
        assert response["details"]["fields"] == [field], response
    assert studio.ok("GET_PROMPTS")["total"] == 0


def test_a_reserved_prompt_cannot_be_deleted(studio: BackendProcess) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    (prompt_id,) = studio.ok("ADD_PROMPTS", {"prompts": [{"style": "rock"}]})["prompt_ids"]
    queue = studio.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 1, "songs_per_batch": 1})
    refused = studio.error("DELETE_PROMPT", {"prompt_id": prompt_id})
    assert refused["error_code"] == "INVALID_PAYLOAD"
    assert refused["details"]["queue_id"] == queue["queue_id"]
    reserved = studio.ok("GET_PROMPTS", {"status": "reserved"})["items"]
    assert [(p["prompt_id"], p["queue_id"], p["position"]) for p in reserved] == [(prompt_id, queue["queue_id"], 0)]


def test_prompts_import_from_json_csv_and_text_files(studio: BackendProcess, tmp_path: Path) -> None:
    as_json = tmp_path / "prompts.json"
    as_json.write_text(json.dumps([{"title": "J1", "lyrics": "la la", "style": "pop", "extra": "ignored"}]))
    wrapped = tmp_path / "wrapped.JSON"
    wrapped.write_text(json.dumps({"prompts": [{"style": "jazz", "tags": ["late night"]}]}))
    as_csv = tmp_path / "prompts.csv"
    as_csv.write_bytes(
        "\ufeffTitle,Lyrics,Style,Tags,Notes\r\n"
        '"Café, au lait","first line\r\n""quoted"" line",Chanson,"french, slow",x\r\n'
        ",,,,\r\n"
        "Short,,rock,,\r\n".encode()
    )
    as_text = tmp_path / "prompts.txt"
    as_text.write_text(
        "Title: Night Drive\nStyle: synthwave\nTags: retro, 80s\n\n[Verse]\nNeon lights\n\n[Chorus]\nDrive\n"
        "---\n"
        "Just lyrics, no headers\n"
        "-----\n\n"
        "Style: drum and bass\n"
    )

    assert studio.ok("IMPORT_PROMPTS", {"path": str(as_json)})["added"] == 1
    assert studio.ok("IMPORT_PROMPTS", {"path": str(wrapped)})["added"] == 1
    assert studio.ok("IMPORT_PROMPTS", {"path": str(as_csv)})["added"] == 2
    imported = studio.ok("IMPORT_PROMPTS", {"path": str(as_text)})
    assert imported["added"] == 3
    assert imported["available"] == 7

    items = studio.ok("GET_PROMPTS")["items"]
    got = [(p["title"], p["lyrics"], p["style"], p["tags"]) for p in items]
    assert got == [
        ("J1", "la la", "pop", []),
        ("", "", "jazz", ["late night"]),
        ("Café, au lait", 'first line\r\n"quoted" line', "Chanson", ["french", "slow"]),
        ("Short", "", "rock", []),
        ("Night Drive", "[Verse]\nNeon lights\n\n[Chorus]\nDrive", "synthwave", ["retro", "80s"]),
        ("", "Just lyrics, no headers", "", []),
        ("", "", "drum and bass", []),
    ]

    named_oddly = tmp_path / "prompts.data"
    named_oddly.write_text("Style: lo-fi\n")
    assert studio.error("IMPORT_PROMPTS", {"path": str(named_oddly)})["details"]["fields"] == ["$.format"]
    assert studio.ok("IMPORT_PROMPTS", {"path": str(named_oddly), "format": "text"})["added"] == 1


def test_a_bad_prompt_file_is_refused_whole_with_the_reason(studio: BackendProcess, tmp_path: Path) -> None:
    def write(name: str, content: bytes) -> str:
        (tmp_path / name).write_bytes(content)
        return str(tmp_path / name)

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    cases = {
        "relative": "prompts.json",
        "missing": str(tmp_path / "missing.json"),
        "folder": str(tmp_path),
        "fifo": str(fifo),
        "device": "/dev/zero",
        "not utf-8": write("latin1.txt", "caf\xe9".encode("latin-1")),
        "bad json": write("bad.json", b"[{"),
        "json scalar": write("scalar.json", b"42"),
        "json item": write("item.json", json.dumps([{"style": "ok"}, {"title": "no lyrics nor style"}]).encode()),
        "json type": write("type.json", json.dumps([{"style": 5}]).encode()),
        "csv header": write("noheader.csv", b"a,b\n1,2\n"),
        "csv control": write("control.csv", b"style\nbad\x00style\n"),
        "empty": write("empty.txt", b"   \n---\n"),
        "huge": write("huge.txt", b"x" * (10 * 1024 * 1024 + 1)),
    }
    for case, path in cases.items():
        response = studio.error("IMPORT_PROMPTS", {"path": path, "format": "json" if case == "device" else None})
        assert response["error_code"] == "INVALID_PAYLOAD", case
        assert response["details"]["fields"] == ["$.path"], case
    item = studio.error("IMPORT_PROMPTS", {"path": cases["json item"]})
    assert (item["details"]["item"], item["details"]["place"]) == ("$[1]", "$[1]")
    assert "$[1]" in item["error"]
    bad_row = write("row.csv", b"title,style\nfine,pop\n\nno style,\n")
    row = studio.error("IMPORT_PROMPTS", {"path": bad_row})
    assert (row["details"]["item"], row["details"]["place"]) == ("$[1]", "row 4")
    assert row["error"].startswith(f"the prompt at row 4 of {bad_row!r} is not valid: ")
    assert studio.ok("GET_PROMPTS")["total"] == 0, "nothing of a refused file is imported"


def test_numbers_past_sqlite_integers_are_refused_as_invalid(studio: BackendProcess) -> None:
    too_big = 2**64
    error = studio.error("DELETE_PROMPT", {"prompt_id": too_big})
    assert error["error_code"] == "INVALID_PAYLOAD"
    assert error["details"] == {"fields": ["$.prompt_id"]}
    assert studio.error("GET_PROMPTS", {"offset": too_big})["details"] == {"fields": ["$.offset"]}
