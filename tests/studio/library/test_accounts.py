"""Accounts: names that are safe directory names, a browser profile each, renames that move everything."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import BackendProcess

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def lock_profile(profile: Path, owner: str) -> None:
    """Do what Chrome does while it has a profile open."""
    (profile / "SingletonLock").symlink_to(owner)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_an_account_is_created_listed_and_updated(studio: BackendProcess, profiles: Path) -> None:
    account = studio.ok("CREATE_ACCOUNT", {"name": "main", "email": "me@example.com"})
    assert account["name"] == "main"
    assert account["email"] == "me@example.com"
    assert TIME.fullmatch(account["created_at"])
    assert account["last_used"] is None
    assert account["profile_path"] == str(profiles / "main")
    assert account["profile_locked"] is False
    assert (profiles / "main").is_dir()

    studio.ok("CREATE_ACCOUNT", {"name": "Alt"})
    assert [a["name"] for a in studio.ok("GET_ACCOUNTS")] == ["Alt", "main"]
    assert studio.ok("GET_ACCOUNTS")[0]["email"] is None

    used = studio.ok("UPDATE_ACCOUNT", {"name": "main", "last_used": "2025-01-01 10:00:00"})
    assert used["last_used"] == "2025-01-01 10:00:00"
    assert used["email"] == "me@example.com"
    iso = studio.ok("UPDATE_ACCOUNT", {"name": "main", "last_used": "2025-03-04T05:06:07"})
    assert iso["last_used"] == "2025-03-04 05:06:07"
    touched = studio.ok("UPDATE_ACCOUNT", {"name": "main", "email": "new@example.org"})
    assert TIME.fullmatch(touched["last_used"]), "without last_used the account is marked used now"
    assert touched["email"] == "new@example.org"

    bad = studio.error("UPDATE_ACCOUNT", {"name": "main", "last_used": "yesterday-ish"})
    assert bad["error_code"] == "INVALID_PAYLOAD"
    assert bad["details"]["fields"] == ["$.last_used"]
    assert studio.error("UPDATE_ACCOUNT", {"name": "ghost"})["error_code"] == "ACCOUNT_NOT_FOUND"
    assert studio.error("UPDATE_ACCOUNT", {"name": "main", "email": "nope"})["details"]["fields"] == ["$.email"]


def test_names_ignore_case_like_the_file_systems_profiles_live_on(studio: BackendProcess) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "Studio"})
    duplicate = studio.error("CREATE_ACCOUNT", {"name": "studio"})
    assert duplicate["error_code"] == "ACCOUNT_ALREADY_EXISTS"
    assert "Studio" in duplicate["error"]
    assert studio.ok("GET_ACCOUNT_PROFILE_PATH", {"name": "STUDIO"})["name"] == "Studio"
    assert studio.error("CREATE_ACCOUNT", {"name": "Studio"})["error_code"] == "ACCOUNT_ALREADY_EXISTS"


@pytest.mark.parametrize(
    "name",
    ["Élodie", "Студия", "音楽 1", "हिन्दी", "user.name", "a-b_c d", "x" * 60, "e\u0301cole"],
)
def test_letters_of_any_script_digits_and_a_little_punctuation_make_a_name(
    studio: BackendProcess, profiles: Path, name: str
) -> None:
    account = studio.ok("CREATE_ACCOUNT", {"name": name})
    assert (profiles / account["name"]).is_dir()
    assert studio.ok("GET_ACCOUNT_PROFILE_PATH", {"name": name})["exists"] is True


def test_names_that_are_not_safe_directory_names_are_refused(studio: BackendProcess, tmp_path: Path) -> None:
    refused = [
        "",
        "../escape",
        "..",
        ".",
        ".hidden",
        "a..b",
        "a/b",
        "a\\b",
        "/etc",
        "C:",
        "C:\\Windows",
        "~root",
        "name ",
        " name",
        "name.",
        "CON",
        "nul.txt",
        "com1",
        "LPT9",
        "tab\there",
        "new\nline",
        "nul\x00byte",
        "\x1b[31mred",
        "emoji🎵",
        "rtl\u202eoverride",
        "zero\u200bwidth",
        "x" * 61,
        "%2e%2e",
        "a:b",
        "a*b",
        "a?b",
        'a"b',
        "a<b>",
        "a|b",
    ]
    for name in refused:
        response = studio.error("CREATE_ACCOUNT", {"name": name})
        assert response["error_code"] == "INVALID_PAYLOAD", name
        assert response["details"]["fields"] == ["$.name"], name
    assert studio.ok("GET_ACCOUNTS") == []
    assert sorted(p.name for p in (tmp_path / "data" / "studio" / "profiles").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_emails_are_checked_when_given(studio: BackendProcess) -> None:
    for good in ["a@b.co", "first.last+tag@sub.example.com", "x@bücher.de", "x@xn--bcher-kva.de"]:
        assert studio.ok("CREATE_ACCOUNT", {"name": f"n{len(good)}{good[0]}", "email": good})["email"] == good
    for bad in [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@b",
        "a b@example.com",
        "a@exa mple.com",
        "a@@b.com",
        "a@-b.com",
        ".a@b.com",
        "a..b@c.com",
        "a@b.c",
        "a@b.com\n",
        "x" * 65 + "@b.com",
        "a@b.com" + "m" * 300,
    ]:
        response = studio.error("CREATE_ACCOUNT", {"name": "bad", "email": bad})
        assert response["error_code"] == "INVALID_PAYLOAD", bad
        assert response["details"]["fields"] == ["$.email"], bad


def test_the_profile_path_is_reported_for_an_existing_account(studio: BackendProcess, profiles: Path) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    assert studio.ok("GET_ACCOUNT_PROFILE_PATH", {"name": "main"}) == {
        "name": "main",
        "profile_path": str(profiles / "main"),
        "exists": True,
        "locked": False,
    }
    assert studio.error("GET_ACCOUNT_PROFILE_PATH", {"name": "other"})["error_code"] == "ACCOUNT_NOT_FOUND"
    assert studio.error("GET_ACCOUNT_PROFILE_PATH", {"name": "../main"})["error_code"] == "INVALID_PAYLOAD"
    assert studio.error("GET_ACCOUNT_PROFILE_PATH", {})["error_code"] == "INVALID_PAYLOAD"


def test_a_profile_directory_that_cannot_be_made_fails_the_creation(studio: BackendProcess, profiles: Path) -> None:
    (profiles / "blocked").write_text("a file where the profile directory should go")
    response = studio.error("CREATE_ACCOUNT", {"name": "blocked"})
    assert response["error_code"] == "ACCOUNT_CREATION_FAILED"
    assert "blocked" in response["error"]
    assert studio.ok("GET_ACCOUNTS") == []


def test_a_profile_left_by_a_deleted_account_is_adopted_by_its_namesake(studio: BackendProcess, profiles: Path) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    (profiles / "main" / "Cookies").write_text("signed in")
    studio.ok("DELETE_ACCOUNT", {"name": "main"})
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    assert (profiles / "main" / "Cookies").read_text() == "signed in"


def test_rename_moves_the_profile_and_every_record_naming_the_account(studio: BackendProcess, profiles: Path) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "old", "email": "me@example.com"})
    (profiles / "old" / "Cookies").write_text("signed in")
    queue = studio.ok(
        "CREATE_QUEUE", {"account_name": "old", "total_songs": 1, "songs_per_batch": 1, "prompts": [{"style": "jazz"}]}
    )
    studio.ok("RECORD_DOWNLOADS", {"account_name": "old", "clips": [{"id": "clip-1"}]})
    studio.ok(
        "ADD_CREATION_RECORD",
        {"record": {"song_id": "s1", "title": "T", "prompt_index": 0, "account_name": "old", "status": "completed"}},
    )

    renamed = studio.ok("RENAME_ACCOUNT", {"old_name": "old", "new_name": "Новый"})
    assert renamed["name"] == "Новый"
    assert renamed["email"] == "me@example.com"
    assert renamed["profile_path"] == str(profiles / "Новый")
    assert (profiles / "Новый" / "Cookies").read_text() == "signed in"
    assert not (profiles / "old").exists()
    assert [q["account_name"] for q in studio.ok("GET_QUEUES")] == ["Новый"]
    assert len(studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "Новый"})["items"]) == 1
    assert studio.ok("GET_CREATION_HISTORY", {"account_name": "Новый"})["items"][0]["account_name"] == "Новый"
    assert len(studio.ok("GET_CREATION_HISTORY", {"account_name": "old"})["items"]) == 0
    assert studio.error("GET_DOWNLOAD_HISTORY", {"account_name": "old"})["error_code"] == "ACCOUNT_NOT_FOUND"
    event = studio.wait_event(lambda e: e["type"] == "QUEUE_PROGRESS" and e["payload"]["change"] == "updated")
    assert event["payload"]["queue_id"] == queue["queue_id"]
    assert event["payload"]["account_name"] == "Новый"

    assert studio.ok("RENAME_ACCOUNT", {"old_name": "новый", "new_name": "НОВЫЙ"})["name"] == "НОВЫЙ"
    assert (profiles / "НОВЫЙ" / "Cookies").exists(), "a change of case alone is a rename too"
    assert studio.ok("RENAME_ACCOUNT", {"old_name": "НОВЫЙ", "new_name": "НОВЫЙ"})["name"] == "НОВЫЙ"


def test_rename_refusals_change_nothing(studio: BackendProcess, profiles: Path) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "one"})
    studio.ok("CREATE_ACCOUNT", {"name": "two"})
    (profiles / "leftover").mkdir()

    assert studio.error("RENAME_ACCOUNT", {"old_name": "ghost", "new_name": "x"})["error_code"] == "ACCOUNT_NOT_FOUND"
    taken = studio.error("RENAME_ACCOUNT", {"old_name": "one", "new_name": "TWO"})
    assert taken["error_code"] == "ACCOUNT_ALREADY_EXISTS"
    occupied = studio.error("RENAME_ACCOUNT", {"old_name": "one", "new_name": "leftover"})
    assert occupied["error_code"] == "ACCOUNT_ALREADY_EXISTS"
    assert "leftover" in occupied["error"]
    bad = studio.error("RENAME_ACCOUNT", {"old_name": "one", "new_name": "../two"})
    assert bad["error_code"] == "INVALID_PAYLOAD"
    assert bad["details"]["fields"] == ["$.new_name"]
    bad_old = studio.error("RENAME_ACCOUNT", {"old_name": "/etc", "new_name": "three"})
    assert bad_old["details"]["fields"] == ["$.old_name"]

    assert [a["name"] for a in studio.ok("GET_ACCOUNTS")] == ["one", "two"]
    assert sorted(p.name for p in profiles.iterdir()) == ["leftover", "one", "two"]


def test_a_profile_open_in_a_browser_cannot_be_renamed_or_deleted(studio: BackendProcess, profiles: Path) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "busy"})
    lock_profile(profiles / "busy", f"{socket.gethostname()}-{os.getpid()}")

    assert studio.ok("GET_ACCOUNTS")[0]["profile_locked"] is True
    assert studio.ok("GET_ACCOUNT_PROFILE_PATH", {"name": "busy"})["locked"] is True
    rename = studio.error("RENAME_ACCOUNT", {"old_name": "busy", "new_name": "free"})
    assert rename["error_code"] == "PROFILE_LOCKED"
    assert str(os.getpid()) in rename["error"]
    for delete_profile in (False, True):
        response = studio.error("DELETE_ACCOUNT", {"name": "busy", "delete_profile": delete_profile})
        assert response["error_code"] == "PROFILE_LOCKED"
    assert [a["name"] for a in studio.ok("GET_ACCOUNTS")] == ["busy"]
    assert (profiles / "busy").is_dir()


def test_a_lock_from_another_host_counts_and_a_stale_one_does_not(studio: BackendProcess, profiles: Path) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "shared"})
    lock_profile(profiles / "shared", "some-other-host-4242")
    assert studio.error("DELETE_ACCOUNT", {"name": "shared"})["error_code"] == "PROFILE_LOCKED"
    (profiles / "shared" / "SingletonLock").unlink()

    lock_profile(profiles / "shared", f"{socket.gethostname()}-{dead_pid()}")
    assert studio.ok("GET_ACCOUNTS")[0]["profile_locked"] is False
    assert studio.ok("RENAME_ACCOUNT", {"old_name": "shared", "new_name": "mine"})["name"] == "mine"
    assert (profiles / "mine" / "SingletonLock").is_symlink()


def test_delete_keeps_the_profile_unless_asked_and_never_touches_anything_outside(
    studio: BackendProcess, profiles: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")

    studio.ok("CREATE_ACCOUNT", {"name": "kept"})
    kept = studio.ok("DELETE_ACCOUNT", {"name": "kept", "delete_profile": False})
    assert kept["profile_deleted"] is False
    assert (profiles / "kept").is_dir()

    studio.ok("CREATE_ACCOUNT", {"name": "gone"})
    (profiles / "gone" / "link-out").symlink_to(outside)
    (profiles / "gone" / "Default").mkdir()
    (profiles / "gone" / "Default" / "History").write_text("x")
    gone = studio.ok("DELETE_ACCOUNT", {"name": "gone", "delete_profile": True})
    assert gone == {
        "name": "gone",
        "deleted": True,
        "profile_path": str(profiles / "gone"),
        "profile_deleted": True,
        "removed_queues": 0,
    }
    assert not (profiles / "gone").exists()
    assert (outside / "precious.txt").read_text() == "keep me"

    (profiles / "linked").symlink_to(outside, target_is_directory=True)
    studio.ok("CREATE_ACCOUNT", {"name": "linked"})
    assert studio.ok("DELETE_ACCOUNT", {"name": "linked", "delete_profile": True})["profile_deleted"] is True
    assert not (profiles / "linked").is_symlink()
    assert (outside / "precious.txt").read_text() == "keep me", "a profile that is a link loses the link only"

    assert studio.error("DELETE_ACCOUNT", {"name": "gone"})["error_code"] == "ACCOUNT_NOT_FOUND"
    assert studio.error("DELETE_ACCOUNT", {"name": "gone", "delete_profile": "yes"})["error_code"] == "INVALID_PAYLOAD"


def test_delete_removes_the_accounts_queues_and_downloads_but_keeps_creation_history(studio: BackendProcess) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    studio.ok("ADD_PROMPTS", {"prompts": [{"style": "rock"}, {"style": "pop"}]})
    queue = studio.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 2, "songs_per_batch": 1})
    studio.ok("RECORD_DOWNLOADS", {"account_name": "main", "clips": [{"id": "c1"}]})
    studio.ok(
        "ADD_CREATION_RECORD",
        {
            "record": {
                "song_id": "s1",
                "title": "Kept",
                "prompt_index": 0,
                "account_name": "main",
                "status": "completed",
            }
        },
    )

    assert studio.ok("DELETE_ACCOUNT", {"name": "main"})["removed_queues"] == 1
    removed = studio.wait_event(lambda e: e["type"] == "QUEUE_PROGRESS" and e["payload"]["change"] == "removed")
    assert removed["payload"]["queue_id"] == queue["queue_id"]
    assert studio.ok("GET_QUEUES") == []
    assert studio.ok("VALIDATE_PROMPTS", {"requested_total": 2})["valid"] is True, "its prompts went back"
    assert studio.ok("GET_CREATION_HISTORY", {"account_name": "main"})["items"][0]["title"] == "Kept"

    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    assert len(studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "main"})["items"]) == 0
