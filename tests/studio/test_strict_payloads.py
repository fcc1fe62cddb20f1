"""The studio's payloads are strict: the typos a new user makes are refused with the field they meant."""

from __future__ import annotations

from collections.abc import Callable

from tests.support import BackendProcess


def test_typos_in_studio_payloads_are_refused_not_defaulted(spawn: Callable[..., BackendProcess]) -> None:
    studio = spawn("studio")

    typo = studio.error("CREATE_ACCOUNT", {"name": "bob", "emial": "bob@example.com"})
    assert typo["error_code"] == "INVALID_PAYLOAD"
    assert typo["details"]["did_you_mean"] == "email"
    assert "did you mean `email`?" in typo["error"]
    assert studio.ok("GET_ACCOUNTS") == []  # bob was not created without his email

    studio.ok("CREATE_ACCOUNT", {"name": "bob", "email": "bob@example.com"})
    studio.ok("ADD_PROMPTS", {"prompts": [{"title": "a", "lyrics": "la la"}, {"title": "b", "lyrics": "lo"}]})
    queue = {"account_name": "bob", "total_songs": 2, "songs_per_batch": 1}
    singular = studio.error("CREATE_QUEUE", {**queue, "prompt": [{"title": "c", "lyrics": "li"}]})
    assert singular["details"]["did_you_mean"] == "prompts"
    assert studio.ok("GET_QUEUES") == []  # nothing was reserved from the library
    assert studio.ok("VALIDATE_PROMPTS", {"requested_total": 2})["available"] == 2

    nested = studio.error("ADD_PROMPTS", {"prompts": [{"title": "a", "lyric": "la"}]})
    assert nested["details"]["fields"] == ["$.prompts[0].lyric"]
    assert nested["details"]["did_you_mean"] == "lyrics"
