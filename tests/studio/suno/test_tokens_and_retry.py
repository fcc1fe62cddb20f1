"""Reading a JWT's expiry without trusting it, and the backoff schedule Suno tools converge on."""

from __future__ import annotations

import base64
import email.utils
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskbridge.studio.suno import tokens
from deskbridge.studio.suno.retry import RetryPolicy, parse_retry_after


def jwt_with(claims: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


def test_the_expiry_is_read_from_the_payload() -> None:
    token = jwt_with({"exp": 1_800_000_060, "sid": "sess"})
    assert tokens.expires_at(token) == 1_800_000_060
    assert tokens.expires_within(token, 30, now=1_800_000_040)
    assert not tokens.expires_within(token, 30, now=1_800_000_000)


@pytest.mark.parametrize(
    "token", ["", "opaque-session-cookie", "a.b", "a.!!!.c", jwt_with(["exp"]), jwt_with({"exp": "soon"})]
)
def test_a_token_without_a_readable_expiry_is_never_thought_expiring(token: str) -> None:
    assert tokens.expires_at(token) is None
    assert not tokens.expires_within(token, 3600, now=0)


@given(st.text())
def test_no_string_makes_the_reader_raise(text: str) -> None:
    assert tokens.expires_at(text) is None or isinstance(tokens.expires_at(text), float)


def test_backoff_doubles_from_two_seconds_up_to_a_minute() -> None:
    policy = RetryPolicy()
    assert [policy.delay(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def test_retry_after_wins_but_is_capped() -> None:
    policy = RetryPolicy(max_delay=60)
    assert policy.delay(1, "7") == 7
    assert policy.delay(1, "3600") == 60
    assert policy.delay(3, "not a date") == 8, "an unreadable header falls back to the schedule"


def test_retry_after_may_be_an_http_date() -> None:
    when = email.utils.formatdate(1_800_000_030, usegmt=True)
    assert parse_retry_after(when, now=1_800_000_000) == pytest.approx(30)
