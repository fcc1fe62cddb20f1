"""Prompts longer than Suno takes: stored whole, and named the moment they are added or imported.

No queue reserves such a prompt (tests/studio/library/test_queues.py), so the user is told at once, not days
later: ``ADD_PROMPTS`` and ``IMPORT_PROMPTS`` count them and name the first twenty with each field over and
why, and ``GET_PROMPTS`` says of every prompt which fields are over the limits of now.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.declared import Declared
from tests.support import BackendProcess

LYRICS_OVER = "the lyrics: 5001 characters, more than the 5000 Suno takes"
TITLE_OVER = "the title: 101 characters, more than the 100 Suno takes"


def too_long_fields(backend: BackendProcess) -> dict[str, list[str]]:
    """Each listed prompt's title (or style), and the fields it has over the limits."""
    return {p["title"] or p["style"]: p["too_long"] for p in backend.ok("GET_PROMPTS")["items"]}


def test_prompts_over_a_limit_are_stored_and_named_when_added(studio: BackendProcess) -> None:
    prompts: list[dict[str, Any]] = [
        {"title": "fits", "style": "pop"},
        {"title": "long lyrics", "lyrics": "x" * 5_001},
        {"title": "t" * 101, "style": "pop"},
        {"title": "🎵" * 100, "lyrics": "é" * 5_000, "style": "ß" * 1_000},  # at each limit, in characters
        {"title": "b" * 101, "lyrics": "y" * 5_001},
    ]

    added = studio.ok("ADD_PROMPTS", {"prompts": prompts})

    ids = added["prompt_ids"]
    assert (added["added"], added["available"], len(ids)) == (5, 5, 5), "every prompt is stored"
    assert added["too_long"] == 3
    assert added["too_long_prompts"] == [
        {
            "index": 1,
            "where": "$.prompts[1]",
            "prompt_id": ids[1],
            "over": [{"field": "lyrics", "message": LYRICS_OVER}],
        },
        {"index": 2, "where": "$.prompts[2]", "prompt_id": ids[2], "over": [{"field": "title", "message": TITLE_OVER}]},
        {
            "index": 4,
            "where": "$.prompts[4]",
            "prompt_id": ids[4],
            "over": [{"field": "title", "message": TITLE_OVER}, {"field": "lyrics", "message": LYRICS_OVER}],
        },
    ]
    assert too_long_fields(studio) == {
        "fits": [],
        "long lyrics": ["lyrics"],
        "t" * 101: ["title"],
        "🎵" * 100: [],
        "b" * 101: ["title", "lyrics"],
    }
    check = studio.ok("VALIDATE_PROMPTS", {"requested_total": 2})
    assert (check["valid"], check["too_long"], check["too_long_ids"]) == (True, 3, [ids[1], ids[2], ids[4]])

    declared = Declared(studio.ok("GET_SCHEMA"))
    assert declared.problems("ADD_PROMPTS", "data", added) == []
    assert declared.problems("GET_PROMPTS", "data", studio.ok("GET_PROMPTS")) == []
    assert declared.problems("ADD_PROMPTS", "data", {**added, "too_long_prompts": [{"index": 1}]}), "fields missing"


def test_prompts_that_fit_add_with_nothing_to_say(studio: BackendProcess) -> None:
    added = studio.ok("ADD_PROMPTS", {"prompts": [{"style": "pop"}, {"title": "🎵" * 100, "lyrics": "é" * 5_000}]})

    assert (added["added"], added["too_long"], added["too_long_prompts"]) == (2, 0, [])
    assert too_long_fields(studio) == {"pop": [], "🎵" * 100: []}


def test_the_first_twenty_over_a_limit_are_named_and_all_are_counted(studio: BackendProcess) -> None:
    prompts = [{"title": f"{n:02}" + ("t" * 100 if n % 6 else ""), "style": "pop"} for n in range(30)]

    added = studio.ok("ADD_PROMPTS", {"prompts": prompts})

    over = [n for n in range(30) if n % 6]
    assert (added["added"], added["too_long"]) == (30, 25)
    named = added["too_long_prompts"]
    assert [p["index"] for p in named] == over[:20]
    assert [p["prompt_id"] for p in named] == [added["prompt_ids"][n] for n in over[:20]]
    assert {p["over"][0]["message"] for p in named} == {"the title: 102 characters, more than the 100 Suno takes"}
    assert studio.ok("GET_PROMPTS", {"status": "available", "limit": 30})["total"] == 30


def test_the_limits_of_the_config_are_what_is_over_now(spawn: Callable[..., BackendProcess], tmp_path: Path) -> None:
    """Prompts added under the default limits read as over once the config lowers them, and the other way."""
    data = tmp_path / "data"
    before = spawn("studio", data_dir=data)
    old = before.ok("ADD_PROMPTS", {"prompts": [{"title": "eleven char", "style": "pop"}, {"lyrics": "x" * 5_001}]})
    assert old["too_long_prompts"] == [
        {
            "index": 1,
            "where": "$.prompts[1]",
            "prompt_id": old["prompt_ids"][1],
            "over": [{"field": "lyrics", "message": LYRICS_OVER}],
        }
    ]
    assert before.close() == 0
    config = tmp_path / "config.json"
    limits = {"title": 10, "lyrics": 6_000, "style": 20}
    config.write_text(json.dumps({"studio": {"suno": {"create_page": {"limits": limits}}}}))
    after = spawn("studio", data_dir=data, extra=("--config", str(config)))

    assert [p["too_long"] for p in after.ok("GET_PROMPTS")["items"]] == [["title"], []]
    added = after.ok(
        "ADD_PROMPTS",
        {
            "prompts": [
                {"title": "🎵" * 10, "style": "é" * 20},  # exactly at the limits: 40 and 40 bytes, 10 and 20 characters
                {"title": "🎵" * 11, "style": "é" * 21},
                {"style": "s" * 1_000},
            ]
        },
    )
    ids = added["prompt_ids"]
    assert added["too_long"] == 2
    assert added["too_long_prompts"] == [
        {
            "index": 1,
            "where": "$.prompts[1]",
            "prompt_id": ids[1],
            "over": [
                {"field": "title", "message": "the title: 11 characters, more than the 10 Suno takes"},
                {"field": "style", "message": "the style: 21 characters, more than the 20 Suno takes"},
            ],
        },
        {
            "index": 2,
            "where": "$.prompts[2]",
            "prompt_id": ids[2],
            "over": [{"field": "style", "message": "the style: 1000 characters, more than the 20 Suno takes"}],
        },
    ]
    assert [p["too_long"] for p in after.ok("GET_PROMPTS")["items"]][2:] == [[], ["title", "style"], ["style"]]


def test_an_imported_file_with_long_rows_is_stored_whole_and_its_long_prompts_named(
    studio: BackendProcess, tmp_path: Path
) -> None:
    lines = "word\n" * 1_000 + "x"  # 5001 characters over 1001 lines of a quoted cell
    as_csv = tmp_path / "prompts.csv"
    as_csv.write_text(
        "title,lyrics,style\n"
        "short,la la,pop\n"
        "\n"  # a blank row is skipped: the index counts the prompts read, the place counts the row
        f"{'t' * 101},la la,pop\n"
        f"café,{'é' * 5_000},pop\n"
        f'multi,"two\nlines",pop\n'  # a cell's line break is not a row
        f'long,"{lines}",pop\n',
        encoding="utf-8",
    )
    as_json = tmp_path / "prompts.json"
    as_json.write_text(json.dumps({"prompts": [{"lyrics": "y" * 5_001, "title": "t" * 101}, {"style": "ok"}]}))

    from_csv = studio.ok("IMPORT_PROMPTS", {"path": str(as_csv)})
    from_json = studio.ok("IMPORT_PROMPTS", {"path": str(as_json)})

    assert (from_csv["added"], from_csv["too_long"], from_csv["available"]) == (5, 2, 5)
    csv_ids = from_csv["prompt_ids"]
    assert from_csv["too_long_prompts"] == [
        {"index": 1, "where": "row 4", "prompt_id": csv_ids[1], "over": [{"field": "title", "message": TITLE_OVER}]},
        {"index": 4, "where": "row 7", "prompt_id": csv_ids[4], "over": [{"field": "lyrics", "message": LYRICS_OVER}]},
    ]
    assert (from_json["added"], from_json["too_long"], from_json["available"]) == (2, 1, 7)
    assert from_json["too_long_prompts"] == [
        {
            "index": 0,
            "where": "$.prompts[0]",
            "prompt_id": from_json["prompt_ids"][0],
            "over": [{"field": "title", "message": TITLE_OVER}, {"field": "lyrics", "message": LYRICS_OVER}],
        }
    ]
    listed = [p["too_long"] for p in studio.ok("GET_PROMPTS")["items"]]
    assert listed == [[], ["title"], [], [], ["lyrics"], ["title", "lyrics"], []]

    as_text = tmp_path / "prompts.txt"
    as_text.write_text(f"Title: fine\nla la\n---\n\nTitle: {'t' * 101}\nla la\n-----\nStyle: pop\n")
    from_text = studio.ok("IMPORT_PROMPTS", {"path": str(as_text)})
    assert [(p["index"], p["where"]) for p in from_text["too_long_prompts"]] == [(1, "line 5")]
    assert Declared(studio.ok("GET_SCHEMA")).problems("IMPORT_PROMPTS", "data", from_csv) == []


def test_a_long_prompt_beside_a_bad_one_is_refused_with_it_all_or_none(studio: BackendProcess, tmp_path: Path) -> None:
    """Over Suno's limit is a warning; past what a prompt may hold at all is still an error, and nothing is stored."""
    refused = studio.error("ADD_PROMPTS", {"prompts": [{"lyrics": "x" * 5_001}, {"title": "t" * 201, "style": "s"}]})
    assert (refused["error_code"], refused["details"]["fields"]) == ("INVALID_PAYLOAD", ["$.prompts[1].title"])
    bad_file = tmp_path / "prompts.json"
    bad_file.write_text(json.dumps([{"lyrics": "x" * 5_001}, {"title": "no lyrics nor style"}]))
    from_file = studio.error("IMPORT_PROMPTS", {"path": str(bad_file)})
    assert (from_file["error_code"], from_file["details"]["item"]) == ("INVALID_PAYLOAD", "$[1]")
    assert studio.ok("GET_PROMPTS")["total"] == 0


def test_a_limit_raised_in_the_config_lets_longer_prompts_in(
    spawn: Callable[..., BackendProcess], tmp_path: Path
) -> None:
    """The door takes every length a config may allow: a style of 1,500 characters is over the default limit (told,
    not refused), and within a limit raised to 2,000 it is a prompt like any other."""
    long_style = {"prompts": [{"style": "s" * 1_500}]}
    default = spawn("studio", data_dir=tmp_path / "default")
    assert default.ok("ADD_PROMPTS", long_style)["too_long"] == 1

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"studio": {"suno": {"create_page": {"limits": {"style": 2_000}}}}}))
    raised = spawn("studio", data_dir=tmp_path / "raised", extra=("--config", str(config)))
    added = raised.ok("ADD_PROMPTS", long_style)
    assert (added["too_long"], added["too_long_prompts"]) == (0, [])
    assert raised.ok("VALIDATE_PROMPTS", {"requested_total": 1})["available"] == 1
