"""The dashboard in a real headless Chromium against a real ``deskbridge serve studio guardian diag``."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path

import httpx
from playwright.sync_api import expect

from deskbridge.guardian.events import TYPES as GUARDIAN_EVENTS
from deskbridge_standins.suno import StandinControl, StandinServer
from tests.dashboard.support import CHROMIUM, Dashboard
from tests.studio.standin_studio import config_for
from tests.support import DESKBRIDGE

Board = Callable[..., Dashboard]


RECORD_CONNECTION_STATES = """
window.connectionStates = [];
document.addEventListener("DOMContentLoaded", () => {
  const line = document.getElementById("connection");
  new MutationObserver(() => window.connectionStates.push(line.textContent))
    .observe(line, { childList: true, characterData: true, subtree: true });
});
"""


def seqs_shown(board: Dashboard) -> list[int]:
    rows = board.page.locator("#event-list tbody tr[data-seq]")
    return sorted(rows.evaluate_all("rows => rows.map(row => Number(row.dataset.seq))"))


def test_the_page_needs_the_token(dashboard: Board) -> None:
    board = dashboard()
    server, page = board.server, board.page
    html = {"Accept": "text/html"}

    refused = httpx.get(server.url + "/", headers=html)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("text/html")
    assert str(server.data_dir / "token") in refused.text
    page_html = httpx.get(server.url + "/", headers={**html, **server.headers})
    assert page_html.status_code == 200
    assert 'src="/dashboard/js/main.js"' in page_html.text
    assert "frame-ancestors 'none'" in page_html.headers["content-security-policy"]
    # API clients still get the status as JSON, at / and at /api/status
    with server.http() as http:
        assert set(http.get("/").json()) >= {"doors", "clients", "epoch"}
        assert set(http.get("/api/status").json()) >= {"doors", "clients", "epoch"}
        assert http.get("/api/status", headers={"Authorization": ""}).status_code == 401
    # the page's files hold no data: no token, but still only for this server's Host
    assert httpx.get(server.url + "/dashboard/js/main.js").status_code == 200
    assert httpx.get(server.url + "/dashboard/js/main.js", headers={"Host": "evil.example:80"}).status_code == 421
    raw = HTTPConnection("127.0.0.1", server.port, timeout=10)
    raw.request("GET", "/dashboard/../api/status")  # no way out of /dashboard/ without the token
    assert raw.getresponse().status == 404
    raw.close()

    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="This dashboard needs its token")).to_be_visible()
    assert str(server.data_dir / "token") in page.locator("main").inner_text()
    board.shot("token-needed")

    page.goto(f"{server.url}/?token=wrong")  # refused, and forgotten: no loop
    expect(page.get_by_role("heading", name="This dashboard needs its token")).to_be_visible()

    board.open()
    assert "token" not in page.url
    page.reload()  # the tab kept the token: the page comes back, with the token out of sight again
    expect(board.connection).to_have_text("Live")
    assert "token" not in page.url
    expect(page.get_by_role("heading", name="Studio")).to_be_visible()


def test_without_authentication_the_page_needs_no_token(dashboard: Board) -> None:
    board = dashboard(1280, 800, "--no-auth")
    board.page.goto(board.server.url + "/")
    expect(board.connection).to_have_text("Live")
    expect(board.page.get_by_role("heading", name="Studio")).to_be_visible()


def test_a_demo_backend_is_labelled_so_on_every_view_and_a_real_one_is_not(dashboard: Board) -> None:
    real = dashboard()
    real.open()
    expect(real.connection).to_have_text("Live")
    expect(real.page.get_by_role("note")).to_be_hidden()
    real.server.stop()
    demo = dashboard(1280, 800, "--demo")
    demo.open("guardian")
    expect(demo.page.get_by_role("note")).to_contain_text("Demo")
    expect(demo.page).to_have_title(re.compile(r"^DEMO · deskbridge"))


def test_creating_an_account_shows_it(dashboard: Board) -> None:
    board = dashboard()
    page = board.page
    board.open("studio")
    accounts = page.get_by_role("table", name="Accounts")
    page.get_by_role("textbox", name="Name", exact=True).fill("alice")
    page.get_by_role("textbox", name="Email", exact=True).fill("alice@example.com")
    page.get_by_role("button", name="Create account").click()
    expect(accounts.get_by_role("row", name=re.compile("alice alice@example.com"))).to_be_visible()
    assert [a["name"] for a in board.call("GET_ACCOUNTS")] == ["alice"]

    # rename, with the keyboard
    page.get_by_role("button", name="Rename alice").click()
    field = page.get_by_role("textbox", name="New name for alice")
    expect(field).to_be_focused()
    field.fill("Alicia")
    field.press("Enter")
    expect(accounts.get_by_role("row", name=re.compile("Alicia"))).to_be_visible()
    expect(page.get_by_role("button", name="Rename Alicia")).to_be_focused()

    # the prompt library, from a file
    prompts = board.server.data_dir.parent / "prompts.csv"
    prompts.write_text("title,style\n" + "".join(f"Song {i},synthwave\n" for i in range(12)), encoding="utf-8")
    page.get_by_role("textbox", name="File on this computer").fill(str(prompts))
    page.get_by_role("button", name="Import prompts").click()
    expect(page.get_by_text("Imported 12 prompts; 12 are available.")).to_be_visible()
    expect(page.get_by_role("table", name="Next prompts in line").get_by_role("row")).to_have_count(6)

    # a queue: its bar moves as QUEUE_PROGRESS events arrive
    page.get_by_role("spinbutton", name="Songs").fill("4")
    page.get_by_role("spinbutton", name="Per batch").fill("2")
    page.get_by_role("button", name="Create queue").click()
    queue = board.call("GET_QUEUES")[0]
    bar = page.get_by_role("progressbar", name=re.compile("Progress of queue .* of Alicia"))
    expect(bar).to_have_attribute("aria-valuenow", "0")
    for done, status in ((1, "in_progress"), (3, "in_progress")):
        board.call("UPDATE_QUEUE_PROGRESS", {"queue_id": queue["queue_id"], "completed_count": done, "status": status})
        expect(bar).to_have_attribute("aria-valuenow", str(25 * done))
    expect(page.get_by_text("3 of 4 songs")).to_be_visible()
    board.shot("studio")
    page.set_viewport_size({"width": 800, "height": 600})
    board.shot("studio-800x600")

    # creation history: search, then export to CSV
    for song_id, title in (("s1", "Night Drive"), ("s2", "Morning Rain")):
        record = {"song_id": song_id, "title": title, "prompt_index": 0, "account_name": "Alicia"}
        board.call("ADD_CREATION_RECORD", {"record": {**record, "status": "completed"}})
    history = page.get_by_role("table", name="Songs made")
    page.get_by_role("searchbox", name="Search").fill("night")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(history.get_by_role("row", name=re.compile("Night Drive"))).to_be_visible()
    expect(history.get_by_role("row")).to_have_count(2)  # the header and one song
    target = board.server.data_dir.parent / "history.csv"
    page.get_by_role("textbox", name="Export to").fill(str(target))
    page.get_by_role("button", name="Export to CSV").click()
    expect(page.get_by_text(f"Wrote 2 songs to {target}.")).to_be_visible()
    assert "Morning Rain" in target.read_text(encoding="utf-8-sig")

    page.get_by_role("button", name="Delete Alicia").click()  # the dialog is accepted
    expect(page.get_by_text("No account yet")).to_be_visible()
    assert board.call("GET_ACCOUNTS") == []


def test_prompts_longer_than_suno_takes_are_named_as_they_are_added(dashboard: Board) -> None:
    """Stored all the same, but said at once (a warning, the first 20 named) and marked in the list."""
    board = dashboard(studio={"suno": {"create_page": {"limits": {"title": 10}}}})
    page = board.page
    board.open("studio")
    feedback = page.locator("#prompts-feedback")
    page.get_by_role("textbox", name="New prompts, one a line").fill("Night | synthwave\nNight Drive Forever | synth\n")
    page.get_by_role("button", name="Add prompts").click()
    expect(feedback).to_contain_text("Added 2 prompts; 2 are available.")
    night, forever = (p["prompt_id"] for p in board.call("GET_PROMPTS")["items"])
    expect(feedback).to_have_text(
        "Added 2 prompts; 2 are available. 1 is longer than Suno takes; no queue uses it until shortened:"
        f" #{forever} the title: 19 characters, more than the 10 Suno takes."
    )
    expect(feedback).to_have_class(re.compile(r"\bwarning\b"))
    table = page.get_by_role("table", name="Next prompts in line")
    expect(table.get_by_role("row", name=re.compile(f"^{forever} "))).to_contain_text("available, too long: title")
    expect(table.get_by_role("row", name=re.compile(f"^{night} "))).not_to_contain_text("too long")

    # a file of 25 long rows: every one stored, the first 20 named, the rest counted
    prompts = board.server.data_dir.parent / "long.csv"
    prompts.write_text("title,style\n" + "".join(f"Long song {n:02},pop\n" for n in range(25)), encoding="utf-8")
    page.get_by_role("textbox", name="File on this computer").fill(str(prompts))
    page.get_by_role("button", name="Import prompts").click()
    expect(feedback).to_contain_text("Imported 25 prompts; 27 are available. 25 are longer than Suno takes;")
    first = forever + 1
    expect(feedback).to_contain_text(
        f"until shortened: #{first} the title: 12 characters, more than the 10 Suno takes;"
    )
    expect(feedback).to_contain_text(
        f"; #{first + 19} the title: 12 characters, more than the 10 Suno takes; and 5 more."
    )
    expect(feedback).not_to_contain_text(f"#{first + 20} ")

    # a prompt that fits says nothing more
    page.get_by_role("textbox", name="New prompts, one a line").fill("Short | pop\n")
    page.get_by_role("button", name="Add prompts").click()
    expect(feedback).to_have_text("Added 1 prompt; 28 are available.")
    expect(feedback).not_to_have_class(re.compile(r"\bwarning\b"))


def test_the_create_page_card_shows_which_control_moved(dashboard: Board) -> None:
    with StandinServer() as suno:
        standin = StandinControl(suno.base_url)
        standin.create(drop=["weirdness"])
        studio = config_for(standin)["studio"]
        studio["browser"] = {"executable": CHROMIUM, "headless": True, "session_wait": 1.0}
        studio["suno"]["create_page"] = {"control_wait": 2}
        board = dashboard(1280, 900, studio=studio)
        board.call("CREATE_ACCOUNT", {"name": "ada"})
        page = board.page
        board.open("studio")
        card = page.get_by_role("region", name="Create page")
        card.get_by_role("combobox", name="Account").select_option("ada")
        card.get_by_role("button", name="Check the create page").click()

        expect(card.get_by_role("status")).to_contain_text("Missing on", timeout=60_000)
        controls = card.get_by_role("table", name="Create page controls")
        expect(controls.get_by_role("row", name=re.compile(r"^weirdness missing"))).to_be_visible()
        expect(controls.get_by_role("row", name=re.compile(r"^create found"))).to_be_visible()
        board.shot("create-page-check")
        standin.close()


def test_a_long_operation_bar_moves_and_completes(dashboard: Board) -> None:
    board = dashboard(800, 600)
    page = board.page
    board.open("operations")
    page.get_by_role("spinbutton", name="Count to").fill("30")
    page.get_by_role("spinbutton", name="Seconds per step").fill("0.1")
    page.get_by_role("button", name="Start counting").click()
    bar = page.get_by_role("progressbar", name=re.compile(r"^COUNT \w+ progress$"))
    seen: list[int] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        value = bar.get_attribute("aria-valuenow")
        if value is not None and (not seen or int(value) != seen[-1]):
            seen.append(int(value))
            if len(seen) == 3:
                board.shot("operation-running")
        if value == "100":
            break
        time.sleep(0.05)
    assert seen == sorted(seen), seen
    assert len(seen) >= 4, seen
    assert seen[-1] == 100, seen
    finished = page.get_by_role("list", name="Finished")
    expect(finished.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(finished).to_contain_text("completed")
    expect(page.get_by_role("button", name=re.compile("^Cancel COUNT"))).to_have_count(0)

    # a second one, cancelled from its button
    page.get_by_role("spinbutton", name="Count to").fill("1000")
    page.get_by_role("button", name="Start counting").click()
    page.get_by_role("button", name=re.compile("^Cancel COUNT")).click()
    expect(page.get_by_text("cancelled", exact=True)).to_be_visible()
    board.shot("operations")


def test_the_console_sends_any_command(dashboard: Board) -> None:
    board = dashboard()
    page = board.page
    board.open("console")
    command = page.get_by_role("combobox", name="Command")
    command.select_option("ECHO")
    payload = page.get_by_role("textbox", name="Payload (JSON)")
    payload.fill('{"hello": "world"}')
    payload.press("Control+Enter")
    response = page.locator("#console-response")
    expect(response).to_contain_text('"type": "ECHO_RESPONSE"')
    expect(response).to_contain_text('"hello": "world"')

    command.select_option("GRANT_BONUS_TIME")  # the payload starts from the schema
    expect(page.get_by_role("table", name="Payload fields")).to_contain_text("minutes")
    assert '"minutes": 1' in payload.input_value()
    payload.fill('{"minutes": 0}')
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#console-status")).to_contain_text("failed: INVALID_PAYLOAD (HTTP 400")
    board.shot("console")


def test_guardian_shows_the_game_and_acts_on_it(dashboard: Board, game: Callable[[], object], game_name: str) -> None:
    board = dashboard()
    page = board.page
    board.open("guardian")
    expect(page.get_by_text("Not running")).to_be_visible()
    meter = page.get_by_role("meter", name="Play time of alice today")
    expect(meter).to_have_attribute("aria-valuemax", "90")
    expect(page.get_by_role("img", name=re.compile("^alice, last 7 days"))).to_be_visible()

    game()
    expect(page.get_by_text("Playing now")).to_be_visible()
    expect(page.get_by_role("list", name="Game processes")).to_contain_text(game_name)

    page.get_by_role("combobox", name="Child").select_option("alice")
    page.get_by_role("spinbutton", name="Minutes").fill("15")
    page.get_by_role("button", name="Grant bonus time").click()
    expect(meter).to_have_attribute("aria-valuemax", "105")
    expect(page.get_by_text(re.compile("Granted 15 min to alice"))).to_be_visible()
    board.shot("guardian-playing")

    page.get_by_role("button", name="Force close the game").click()  # the dialog is accepted
    expect(page.get_by_text("Not running")).to_be_visible()

    # no time left but the bonus: playing again crosses the 15-minute warning
    board.call("SET_DAILY_LIMIT", {"minutes": 0, "child": "alice"})
    game()
    alerts = page.get_by_role("list", name="Warnings and notifications")
    expect(alerts.get_by_role("listitem").filter(has_text="alice has 15 min left today.")).to_be_visible()
    expect(alerts.get_by_role("listitem").filter(has_text="force_close by")).to_be_visible()  # parents' acts too
    expect(meter).to_have_attribute("aria-valuemax", "15")
    board.shot("guardian")


def test_with_the_childs_token_the_guardian_shows_no_parent_controls(dashboard: Board) -> None:
    board = dashboard()
    board.open("guardian", token=(board.server.data_dir / "client-token").read_text().strip())
    page = board.page
    expect(page.get_by_role("meter", name="Play time of alice today")).to_be_visible()
    expect(page.get_by_role("button", name="Force close the game")).to_be_hidden()
    for control in ("Grant bonus time", "Take time", "Lock until tomorrow", "Set daily limit", "Set allowed hours"):
        expect(page.get_by_role("button", name=control)).to_be_hidden()
    assert board.errors == []


def test_a_restarted_server_shows_reconnecting_then_every_missed_event(dashboard: Board) -> None:
    board = dashboard()
    server, page = board.server, board.page
    page.add_init_script(RECORD_CONNECTION_STATES)
    board.open("events")
    board.call("EMIT", {"count": 3})
    board.call("COUNT", {"to": 200, "interval": 0.02})  # a stream of progress events, cut by the kill
    expect(page.locator("#event-list tbody tr[data-seq]")).not_to_have_count(0)
    time.sleep(0.5)
    port = server.port
    server.kill()  # SIGKILL mid-stream
    expect(board.connection).to_contain_text("Reconnecting")
    board.shot("reconnecting")
    seen_before = seqs_shown(board)

    page.context.set_offline(True)  # the page may not come back before the events below exist
    server.start(port=port)  # same port, same data dir
    board.call("EMIT", {"count": 5})
    time.sleep(1)
    expect(board.connection).to_contain_text("Reconnecting")
    page.context.set_offline(False)
    expect(board.connection).to_have_text("Live", timeout=15_000)

    with server.http() as http:
        everything = http.get("/api/events", params={"after": 0}).json()
    expected = [event["seq"] for event in everything["events"]]
    assert expected == list(range(1, len(expected) + 1))
    expect(page.locator("#event-list tbody tr[data-seq]")).to_have_count(len(expected))
    assert seqs_shown(board) == expected  # every event, before and after the kill, once each
    # after the restart: the COUNT the kill interrupted gets its end (OPERATION_INTERRUPTED), then the 5 emitted
    # (not the guardian's: at restart it tells the parent of the kill, at a time of its own)
    ours = [event for event in everything["events"] if event["type"] not in GUARDIAN_EVENTS]
    codes = [event.get("payload", {}).get("error_code") for event in ours]
    assert codes[-6:] == ["OPERATION_INTERRUPTED", None, None, None, None, None]
    missed = len(expected) - max(seen_before)
    assert missed >= 6
    caught_up = f"Reconnected after seq {max(seen_before)}: {missed} missed events caught up."
    expect(page.get_by_text(caught_up)).to_be_visible()
    states = page.evaluate("window.connectionStates")
    after_kill = states[states.index(next(s for s in states if s.startswith("Reconnecting"))) :]
    assert [s.split("…")[0] for s in after_kill if not s.startswith("Reconnecting")] == ["Catching up", "Live"], states
    assert f"Catching up… {missed} missed events" in after_kill
    board.shot("caught-up")


def test_serve_open_prints_the_dashboard_address(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen(
        [*DESKBRIDGE, "serve", "diag", "--port", "0", "--data-dir", str(tmp_path), "--open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = next(line for line in process.stdout if line.startswith("Dashboard: "))
        token = (tmp_path / "token").read_text().strip()
        url = line.removeprefix("Dashboard: ").strip()
        assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/\?token={re.escape(token)}", url)
        answer = httpx.get(url, headers={"Accept": "text/html"})
        assert answer.status_code == 200
        assert "<title>deskbridge</title>" in answer.text
    finally:
        process.kill()
        process.wait()
