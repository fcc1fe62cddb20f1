"""LAUNCH_BROWSER, GET_SESSION_TOKEN, VERIFY_SESSION and CLOSE_BROWSER in real headless Chromium, over stdio.

The studio is pointed at the stand-in Suno; its browser signs in on the
stand-in's sign-in page and takes its token from the page's Clerk, as it
does on suno.com. One backend and one signed-in browser serve the module.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from deskbridge.errors import CommandError
from deskbridge.studio.browser.browsers import find_executable, launch_args
from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import CHROMIUM, needs_chromium, stderr_text, studio_on, terminal
from tests.studio.suno import support
from tests.support import BackendProcess

standin, suno = support.standin, support.suno

pytestmark = needs_chromium

SIGNED_OUT_PAGE = "<!doctype html><title>Sign in</title><script>window.Clerk = {session: null};</script><form></form>"
TOKENS: set[str] = set()
"""Every token the studio handed out in this module: none may reach its log or its files."""


@pytest.fixture(scope="module")
def studio(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """One studio with accounts ada (its browser open and signed in) and bob (no browser)."""
    with studio_on(standin, tmp_path_factory.mktemp("sessions")) as backend:
        for name in ("ada", "bob"):
            backend.ok("CREATE_ACCOUNT", {"name": name})
        backend.ok("LAUNCH_BROWSER", {"account_name": "ada", "headless": True})
        yield backend


def token_of(studio: BackendProcess, account: str = "ada") -> dict[str, Any]:
    data: dict[str, Any] = studio.ok("GET_SESSION_TOKEN", {"account_name": account})
    TOKENS.add(data["session_token"])
    return data


def fresh_session(studio: BackendProcess, suno: StandinControl) -> int:
    """Make the studio's cached token one of a live session (the stand-in's reset ended the last one).

    VERIFY_SESSION does it: Suno refuses the old token, the studio asks the page, the page signs
    in again. Returns how many requests the stand-in has seen, to count the test's own from there.
    """
    assert studio.ok("VERIFY_SESSION", {"account_name": "ada"})["valid"] is True
    return len(suno.requests())


def billing_status(suno: StandinControl, token: str) -> int:
    """What the stand-in says to an authenticated call with ``token``."""
    return httpx.get(f"{suno.base_url}/api/billing/info/", headers={"Authorization": f"Bearer {token}"}).status_code


def signed_out(suno: StandinControl) -> None:
    """No session anywhere, and a sign-in page that shows Clerk without one (nobody signs in)."""
    suno.revoke()
    suno.faults(
        {"path": "/sign-in", "times": None, "status": 200, "body": SIGNED_OUT_PAGE, "content_type": "text/html"}
    )


def profile_of(studio: BackendProcess, account: str) -> Path:
    return Path(studio.ok("GET_ACCOUNT_PROFILE_PATH", {"name": account})["profile_path"])


def test_the_browser_signs_in_on_the_sign_in_page_and_the_token_is_its_clerk_jwt(
    studio: BackendProcess, suno: StandinControl
) -> None:
    again = studio.ok("LAUNCH_BROWSER", {"account_name": "ADA", "headless": True})
    assert again["already_open"] is True
    assert again["account_name"] == "ada"
    assert again["headless"] is True
    assert again["executable"] == CHROMIUM
    assert again["url"] == f"{suno.base_url}/sign-in"
    assert Path(again["profile_path"]).name == "ada"

    data = token_of(studio)

    assert billing_status(suno, data["session_token"]) == 200
    assert 50 <= data["expires_in"] <= 60
    assert data["expires_at"] > time.strftime("%Y-%m-%d %H:%M:%S")
    # The stand-in was reset for this test: the page's old session was refused, so the studio
    # sent the page back to the sign-in page, which signed in again, and asked Clerk for a token.
    paths = [(r["method"], r["path"]) for r in suno.requests()]
    assert ("GET", "/sign-in") in paths
    assert any(method == "POST" and path.startswith("/clerk/v1/client/sessions/") for method, path in paths)


def test_a_token_is_reused_until_less_than_the_margin_is_left(studio: BackendProcess, suno: StandinControl) -> None:
    suno.settings(token_lifetime=5)  # below the studio's 20 s margin
    fresh_session(studio, suno)
    asked = len(suno.requests("/clerk/*"))
    token_of(studio)
    token_of(studio)
    assert len(suno.requests("/clerk/*")) == asked + 2  # each read afresh from the page

    suno.settings(token_lifetime=3600)
    first = token_of(studio)
    asked = len(suno.requests("/clerk/*"))
    assert token_of(studio)["session_token"] == first["session_token"]
    assert len(suno.requests("/clerk/*")) == asked


def test_verify_session_makes_one_authenticated_call(studio: BackendProcess, suno: StandinControl) -> None:
    before = fresh_session(studio, suno)
    checked = studio.ok("VERIFY_SESSION", {"account_name": "ada"})

    assert checked["valid"] is True
    assert checked["account_name"] == "ada"
    usage = checked["billing"]["download_usage"]
    assert (usage["current_period_downloads_used"], usage["current_period_downloads_limit"]) == (0, 1000)
    assert checked["expires_in"] > 20
    assert [r["path"] for r in suno.requests()[before:]] == ["/api/billing/info/"]


def test_a_signed_out_browser_is_session_not_found_and_an_invalid_session(
    studio: BackendProcess, suno: StandinControl
) -> None:
    token_of(studio)
    signed_out(suno)

    checked = studio.ok("VERIFY_SESSION", {"account_name": "ada"})
    assert checked["valid"] is False
    assert "no one is signed in" in checked["reason"]
    # Suno refused the cached token, the studio asked the browser once for a new one, and Clerk had none.
    assert [r["path"] for r in suno.requests("/api/*")] == ["/api/billing/info/"]

    error = studio.error("GET_SESSION_TOKEN", {"account_name": "ada"})
    assert error["error_code"] == "SESSION_NOT_FOUND"
    assert "LAUNCH_BROWSER with headless false" in error["error"]


def test_fetch_clips_gets_a_new_token_from_the_browser_on_401_once(
    studio: BackendProcess, suno: StandinControl
) -> None:
    suno.seed({"title": "one"}, {"title": "two"})
    fresh_session(studio, suno)
    token = token_of(studio)["session_token"]
    before = len(suno.requests())
    suno.faults({"path": "/api/feed/v2", "status": 401, "times": 1})

    fetched = studio.ok("FETCH_CLIPS", {"account_name": "ada", "session_token": token, "use_my_songs": True})

    assert [clip["title"] for clip in fetched["clips"]] == ["one", "two"]
    seen = [(r["method"], r["path"].split("/")[1]) for r in suno.requests()[before:]]
    assert seen == [("GET", "api"), ("POST", "clerk"), ("GET", "api")]

    suno.faults({"path": "/api/feed/v2", "status": 401, "times": 2})
    error = studio.error("FETCH_CLIPS", {"account_name": "ada", "session_token": token, "use_my_songs": True})
    assert error["error_code"] == "SESSION_NOT_FOUND"


def test_fetch_clips_without_a_token_uses_the_accounts_browser(studio: BackendProcess, suno: StandinControl) -> None:
    suno.seed({"title": "mine"})
    fetched = studio.ok("FETCH_CLIPS", {"account_name": "ada", "use_my_songs": True})
    assert fetched["source"] == "my_songs"
    assert [clip["title"] for clip in fetched["clips"]] == ["mine"]


def test_the_create_page_lists_what_its_own_feed_answer_holds(studio: BackendProcess, suno: StandinControl) -> None:
    seeded = suno.seed(*({"title": f"song {n}"} for n in range(25)))
    seeded[0]["status"] = "streaming"
    suno.seed(*seeded, replace=True)
    fresh_session(studio, suno)

    fetched = studio.ok("FETCH_CLIPS", {"account_name": "ada", "use_create_page": True})

    assert fetched["source"] == "create_page"
    assert [clip["id"] for clip in fetched["clips"]] == [clip["id"] for clip in seeded[:20]]  # the page's first page
    assert fetched["clips"][0]["status"] == "streaming"
    assert ("GET", "/create") in [(r["method"], r["path"]) for r in suno.requests()]
    assert all(r["bearer"] for r in suno.requests("/api/feed/v2"))


def test_the_create_page_signed_out_or_failing(studio: BackendProcess, suno: StandinControl) -> None:
    fresh_session(studio, suno)
    suno.faults({"path": "/api/feed/v2", "status": 502})
    error = studio.error("FETCH_CLIPS", {"account_name": "ada", "use_create_page": True})
    assert error["error_code"] == "INTERNAL_ERROR"
    assert "HTTP 502" in error["error"]

    suno.revoke()  # the page's Clerk finds no session: it never asks the feed
    error = studio.error("FETCH_CLIPS", {"account_name": "ada", "use_create_page": True})
    assert error["error_code"] == "SESSION_NOT_FOUND"
    assert "listed no clips" in error["error"]


def test_downloads_without_a_token_use_the_accounts_browser_and_refresh_through_it(
    studio: BackendProcess, suno: StandinControl, tmp_path: Path
) -> None:
    (clip,) = suno.seed({"title": "metered", "audio_url": suno.forbidden_url})
    fresh_session(studio, suno)
    suno.faults({"path": "/api/download/authorize", "status": 401})

    payload = {"account_name": "ada", "clips": [clip], "output_dir": str(tmp_path), "authorize": True}
    started = studio.ok("BATCH_DOWNLOAD", payload)
    done = terminal(studio, started["operation_id"])

    assert done["status"] == "completed"
    assert done["result"]["downloaded"] == 1
    authorizations = suno.requests("/api/download/authorize")
    assert len(authorizations) == 2  # refused once, then with the browser's new token
    assert all(r["bearer"] for r in authorizations)
    assert [item["clip_id"] for item in studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "ada"})["items"]] == [
        clip["id"]
    ]


def test_a_profile_cannot_move_while_its_browser_is_open(studio: BackendProcess) -> None:
    assert {a["name"]: a["profile_locked"] for a in studio.ok("GET_ACCOUNTS")} == {"ada": True, "bob": False}
    for command, payload in (
        ("RENAME_ACCOUNT", {"old_name": "ada", "new_name": "eve"}),
        ("DELETE_ACCOUNT", {"name": "ada", "delete_profile": True}),
    ):
        error = studio.error(command, payload)
        assert error["error_code"] == "PROFILE_LOCKED"
        assert error["details"]["holder"].startswith("browser process ")


def test_a_profile_held_by_another_live_chromium_is_locked_and_its_stale_lock_cleared_after_a_crash(
    studio: BackendProcess, suno: StandinControl
) -> None:
    profile = profile_of(studio, "bob")
    assert CHROMIUM is not None
    other = subprocess.Popen(
        [CHROMIUM, "--headless", f"--user-data-dir={profile}", *launch_args([]), "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (profile / "SingletonLock").is_symlink():
            assert time.monotonic() < deadline, "the other Chromium never locked the profile"
            time.sleep(0.05)

        error = studio.error("LAUNCH_BROWSER", {"account_name": "bob", "headless": True})
        assert error["error_code"] == "PROFILE_LOCKED"
        assert error["details"] == {"name": "bob", "holder": f"browser process {other.pid}"}
    finally:
        os.killpg(other.pid, signal.SIGKILL)
        other.wait()

    assert (profile / "SingletonLock").is_symlink()  # a crash leaves the lock behind
    launched = studio.ok("LAUNCH_BROWSER", {"account_name": "bob", "headless": True})
    assert launched["already_open"] is False
    assert token_of(studio, "bob")["session_token"]
    assert studio.ok("CLOSE_BROWSER", {"account_name": "bob"}) == {"account_name": "bob", "closed": True}


def test_a_lock_naming_a_dead_process_is_cleared_and_one_naming_another_host_is_respected(
    studio: BackendProcess,
) -> None:
    profile = profile_of(studio, "bob")
    finished = subprocess.Popen(["true"])
    finished.wait()
    (profile / "SingletonLock").symlink_to(f"{socket.gethostname()}-{finished.pid}")
    (profile / "SingletonSocket").symlink_to("/nonexistent/SingletonSocket")

    studio.ok("LAUNCH_BROWSER", {"account_name": "bob", "headless": True})
    assert os.readlink(profile / "SingletonLock") != f"{socket.gethostname()}-{finished.pid}"
    studio.ok("CLOSE_BROWSER", {"account_name": "bob"})
    assert not (profile / "SingletonLock").is_symlink()

    (profile / "SingletonLock").symlink_to("another-machine-4242")
    try:
        error = studio.error("LAUNCH_BROWSER", {"account_name": "bob", "headless": True})
        assert error["error_code"] == "PROFILE_LOCKED"
        assert "another-machine" in error["error"]
    finally:
        (profile / "SingletonLock").unlink()


def test_unknown_accounts(studio: BackendProcess) -> None:
    for command in ("LAUNCH_BROWSER", "CLOSE_BROWSER", "GET_SESSION_TOKEN", "VERIFY_SESSION"):
        assert studio.error(command, {"account_name": "nobody"})["error_code"] == "ACCOUNT_NOT_FOUND"


def test_tokens_reach_neither_the_log_nor_any_file_outside_the_profiles(
    studio: BackendProcess, suno: StandinControl
) -> None:
    token_of(studio)
    studio.ok("VERIFY_SESSION", {"account_name": "ada"})
    log = stderr_text(studio)
    files = [
        path
        for path in studio.data_dir.rglob("*")
        if path.is_file() and "profiles" not in path.relative_to(studio.data_dir).parts
    ]
    assert files  # the databases, their WAL files, the event log
    for token in TOKENS:
        signature = token.rsplit(".", 1)[1]
        assert signature not in log
        for path in files:
            assert signature.encode() not in path.read_bytes(), path


def test_close_browser_releases_the_profile(studio: BackendProcess) -> None:
    profile = profile_of(studio, "ada")
    assert studio.ok("CLOSE_BROWSER", {"account_name": "ada"}) == {"account_name": "ada", "closed": True}
    assert not (profile / "SingletonLock").is_symlink()
    assert studio.ok("CLOSE_BROWSER", {"account_name": "ada"}) == {"account_name": "ada", "closed": False}
    error = studio.error("GET_SESSION_TOKEN", {"account_name": "ada"})
    assert error["error_code"] == "SESSION_NOT_FOUND"
    assert "LAUNCH_BROWSER first" in error["error"]
    assert studio.ok("VERIFY_SESSION", {"account_name": "ada"})["valid"] is False


# -- backends of their own -------------------------------------------------------------


@pytest.mark.parametrize("how", ["EOF on stdin", "SIGKILL"])
def test_the_browser_goes_with_the_backend_and_releases_the_profile(
    standin: StandinControl, tmp_path: Path, how: str
) -> None:
    with studio_on(standin, tmp_path) as studio:
        profile = Path(studio.ok("CREATE_ACCOUNT", {"name": "ada"})["profile_path"])
        studio.ok("LAUNCH_BROWSER", {"account_name": "ada", "headless": True})
        browser = int(os.readlink(profile / "SingletonLock").rsplit("-", 1)[1])
        if how == "SIGKILL":
            studio.kill()
        else:
            assert studio.close(timeout=5) == 0
        deadline = time.monotonic() + 5
        while psutil.pid_exists(browser) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not psutil.pid_exists(browser)
    assert not (profile / "SingletonLock").is_symlink()


def test_an_unreachable_site_still_opens_the_browser_and_says_why(standin: StandinControl, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with studio_on(standin, tmp_path, suno={"site_origin": closed}) as studio:
        studio.ok("CREATE_ACCOUNT", {"name": "ada"})
        launched = studio.ok("LAUNCH_BROWSER", {"account_name": "ada", "headless": True})
        error = studio.error("GET_SESSION_TOKEN", {"account_name": "ada"})
    assert launched["url"] == f"{closed}/sign-in"
    assert "ERR_CONNECTION_REFUSED" in launched["page_error"]
    assert error["error_code"] == "SESSION_NOT_FOUND"
    assert f"cannot open {closed}/sign-in" in error["error"]


def test_a_headed_browser_without_a_screen_fails_with_chromiums_own_reason(
    standin: StandinControl, tmp_path: Path
) -> None:
    with studio_on(standin, tmp_path, env={"DISPLAY": "", "WAYLAND_DISPLAY": ""}) as studio:
        studio.ok("CREATE_ACCOUNT", {"name": "ada"})
        error = studio.error("LAUNCH_BROWSER", {"account_name": "ada", "headless": False})
        assert studio.ok("GET_ACCOUNTS")[0]["profile_locked"] is False
    assert error["error_code"] == "BROWSER_LAUNCH_FAILED"
    assert "Missing X server or $DISPLAY" in error["error"]


def test_a_configured_executable_that_does_not_exist(standin: StandinControl, tmp_path: Path) -> None:
    with studio_on(standin, tmp_path, browser={"executable": "/nonexistent/chromium"}) as studio:
        studio.ok("CREATE_ACCOUNT", {"name": "ada"})
        error = studio.error("LAUNCH_BROWSER", {"account_name": "ada", "headless": True})
    assert error["error_code"] == "BROWSER_LAUNCH_FAILED"
    assert "/nonexistent/chromium" in error["error"]


def test_an_executable_that_is_not_a_browser(standin: StandinControl, tmp_path: Path) -> None:
    fake = tmp_path / "fake-chrome"
    fake.write_text("#!/bin/sh\necho 'fake-chrome: no display here' >&2\nexit 3\n")
    fake.chmod(0o755)
    with studio_on(standin, tmp_path, browser={"executable": str(fake)}) as studio:
        studio.ok("CREATE_ACCOUNT", {"name": "ada"})
        error = studio.error("LAUNCH_BROWSER", {"account_name": "ada", "headless": True})
        assert studio.ok("GET_ACCOUNTS")[0]["profile_locked"] is False
    assert error["error_code"] == "BROWSER_LAUNCH_FAILED"
    assert str(fake) in error["error"]
    assert "fake-chrome: no display here" in error["error"]


@pytest.mark.skipif(
    any(Path(p).exists() for p in ("/snap/bin/chromium", "/opt/google/chrome/chrome")),
    reason="a browser is installed outside PATH here",
)
def test_no_browser_anywhere(standin: StandinControl, tmp_path: Path) -> None:
    with studio_on(standin, tmp_path, env={"PATH": str(tmp_path)}, browser={}) as studio:
        studio.ok("CREATE_ACCOUNT", {"name": "ada"})
        error = studio.error("LAUNCH_BROWSER", {"account_name": "ada", "headless": True})
    assert error["error_code"] == "BROWSER_LAUNCH_FAILED"
    assert "no Chrome or Chromium found" in error["error"]
    assert "studio.browser.executable" in error["error"]


def test_the_finder_takes_a_command_name_and_knows_where_installers_put_browsers(tmp_path: Path) -> None:
    fake = tmp_path / "google-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_executable(None, environ={"PATH": str(tmp_path)}) == str(fake)
    assert find_executable("google-chrome", environ={"PATH": str(tmp_path)}) == str(fake)
    assert find_executable(str(fake), environ={"PATH": ""}) == str(fake)
    with pytest.raises(CommandError, match="not an executable file"):
        find_executable(str(tmp_path / "missing"), environ={"PATH": ""})

    program_files = tmp_path / "Program Files"
    chrome = program_files / "Google" / "Chrome" / "Application" / "chrome.exe"
    chrome.parent.mkdir(parents=True)
    chrome.write_text("")
    chrome.chmod(0o755)
    environ = {"PATH": "", "PROGRAMFILES": str(program_files)}
    assert find_executable(None, environ=environ, platform="win32") == str(chrome)
