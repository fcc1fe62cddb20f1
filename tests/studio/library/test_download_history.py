"""Download history: per account, keyed by clip id; GET_NEW_CLIPS is the filter before every download."""

from __future__ import annotations

from tests.support import BackendProcess


def test_downloads_are_recorded_listed_and_cleared_per_account(studio: BackendProcess) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    studio.ok("CREATE_ACCOUNT", {"name": "side"})
    recorded = studio.ok(
        "RECORD_DOWNLOADS",
        {"account_name": "main", "clips": [{"id": "c1", "title": "One", "file_path": "/music/One.mp3"}, {"id": "c2"}]},
    )
    assert recorded == {"account_name": "main", "recorded": 2, "total": 2}
    studio.ok("RECORD_DOWNLOADS", {"account_name": "main", "clips": [{"id": "c1", "title": "One (again)"}]})
    studio.ok("RECORD_DOWNLOADS", {"account_name": "side", "clips": [{"id": "c1"}]})

    page = studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "MAIN"})
    assert page["has_more"] is False
    assert [(d["clip_id"], d["title"], d["file_path"]) for d in page["items"]] == [
        ("c1", "One (again)", None),
        ("c2", "", None),
    ], "newest first; a clip downloaded again is listed once"
    first = studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "main", "limit": 1})
    second = studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "main", "limit": 1, "cursor": first["next_cursor"]})
    assert [d["clip_id"] for d in first["items"] + second["items"]] == ["c1", "c2"]

    assert studio.ok("CLEAR_DOWNLOAD_HISTORY", {"account_name": "main"}) == {"account_name": "main", "cleared": 2}
    assert len(studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "main"})["items"]) == 0
    assert len(studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "side"})["items"]) == 1, "other accounts keep theirs"


def test_new_clips_are_those_not_downloaded_in_the_given_order(studio: BackendProcess) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    studio.ok("RECORD_DOWNLOADS", {"account_name": "main", "clips": [{"id": "b"}, {"id": "d"}]})
    clips = [
        {"id": "e", "title": "E", "audio_url": "http://example.com/e.mp3", "metadata": {"tags": "pop"}},
        {"id": "b", "title": "B"},
        {"id": "a", "title": "A", "extra": [1, 2]},
        {"id": "d"},
        {"id": "e", "title": "E twice"},
        {"id": "c"},
    ]
    new = studio.ok("GET_NEW_CLIPS", {"account_name": "main", "all_clips": clips})
    assert new == [clips[0], clips[2], clips[5]], "every field kept, order kept, each id once"
    assert studio.ok("GET_NEW_CLIPS", {"account_name": "main", "all_clips": []}) == []

    many = [{"id": f"clip-{n}"} for n in range(2000)]
    studio.ok("RECORD_DOWNLOADS", {"account_name": "main", "clips": many[::2]})
    assert studio.ok("GET_NEW_CLIPS", {"account_name": "main", "all_clips": many}) == many[1::2]


def test_clips_without_an_id_are_rejected(studio: BackendProcess) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    for clips, field in [
        ([{"id": "ok"}, {"title": "no id"}], "$.all_clips[1]"),
        ([{"id": ""}], "$.all_clips[0].id"),
        ([{"id": None}], "$.all_clips[0].id"),
        ([{"id": 7}], "$.all_clips[0].id"),
        ([{"id": "a\nb"}], "$.all_clips[0].id"),
        ([{"id": "x" * 201}], "$.all_clips[0].id"),
        (["just-an-id"], "$.all_clips[0]"),
        ("c1", "$.all_clips"),
    ]:
        response = studio.error("GET_NEW_CLIPS", {"account_name": "main", "all_clips": clips})
        assert response["error_code"] == "INVALID_PAYLOAD", clips
        assert response["details"]["fields"] == [field], response
    assert "id" in studio.error("GET_NEW_CLIPS", {"account_name": "main", "all_clips": [{}]})["error"]
    assert studio.error("RECORD_DOWNLOADS", {"account_name": "main", "clips": []})["error_code"] == "INVALID_PAYLOAD"
    assert (
        studio.error("RECORD_DOWNLOADS", {"account_name": "main", "clips": [{"title": "x"}]})["error_code"]
        == "INVALID_PAYLOAD"
    )


def test_download_commands_need_an_existing_account(studio: BackendProcess) -> None:
    for command, payload in [
        ("GET_DOWNLOAD_HISTORY", {"account_name": "ghost"}),
        ("GET_NEW_CLIPS", {"account_name": "ghost", "all_clips": [{"id": "c"}]}),
        ("RECORD_DOWNLOADS", {"account_name": "ghost", "clips": [{"id": "c"}]}),
        ("CLEAR_DOWNLOAD_HISTORY", {"account_name": "ghost"}),
    ]:
        assert studio.error(command, payload)["error_code"] == "ACCOUNT_NOT_FOUND", command
        assert studio.error(command, {**payload, "account_name": "../ghost"})["error_code"] == "INVALID_PAYLOAD", (
            command
        )
        assert studio.error(command, {})["error_code"] == "INVALID_PAYLOAD", command
