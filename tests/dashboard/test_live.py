"""The dashboard follows STATE_CHANGED: two pages stay identical while a third client changes things, and
the studio's and the guardian's jobs are done by clicks; it fits a phone.

One server and one Chromium for the module: each test leaves its own accounts and children behind it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.dashboard.support import Dashboard
from tests.webserver import WebServer

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    root = tmp_path_factory.mktemp("live")
    config = root / "config.json"
    config.write_text(
        json.dumps(
            {
                "monitor": {"process_names": ["NoSuchGame"], "close_also": [], "poll_interval": 0.5},
                "children": {"alice": {"daily_limit_minutes": 90}, "bob": {"daily_limit_minutes": 60}},
                "active_child": "alice",
            }
        )
    )
    web = WebServer(["studio", "guardian", "diag"], root / "data", "--config", str(config))
    yield web
    web.kill()


@pytest.fixture
def pages(browser: Browser, server: WebServer) -> Iterator[list[Dashboard]]:
    """Fill the list with ``open_page(...)``; every page is closed, and must have raised no error, at the end."""
    made: list[Dashboard] = []
    yield made
    for board in made:
        board.page.context.close()
    for board in made:
        assert board.errors == [], f"uncaught errors in the page: {board.errors}"


def open_page(browser: Browser, server: WebServer, made: list[Dashboard], view: str, **viewport: int) -> Dashboard:
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    board = Dashboard(server, context.new_page())
    made.append(board)
    board.open(view)
    return board


def call(server: WebServer, command: str, payload: dict[str, object] | None = None) -> dict[str, object]:
    """The third client: a plain HTTP caller, as the CLI or an Electron window would be."""
    answer = server.call(command, payload)
    assert answer["success"], answer
    data: dict[str, object] = answer["data"]
    return data


def text_of(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text()


def test_two_pages_stay_identical_while_a_third_client_changes_things(
    browser: Browser, server: WebServer, pages: list[Dashboard]
) -> None:
    left = open_page(browser, server, pages, "studio")
    right = open_page(browser, server, pages, "studio")
    call(server, "CREATE_ACCOUNT", {"name": "synced"})
    added = call(server, "ADD_PROMPTS", {"prompts": [{"title": f"Tune {i}", "style": "lofi"} for i in range(3)]})
    queue = call(server, "CREATE_QUEUE", {"account_name": "synced", "total_songs": 2, "songs_per_batch": 1})
    call(server, "RENAME_ACCOUNT", {"old_name": "synced", "new_name": "Synced2"})
    call(server, "DELETE_PROMPT", {"prompt_id": added["prompt_ids"][2]})  # type: ignore[index]
    for board in (left, right):
        page = board.page
        accounts = page.get_by_role("table", name="Accounts")
        expect(accounts.get_by_role("row", name=re.compile("Synced2"))).to_be_visible()
        expect(page.locator("#prompt-counts")).to_contain_text(re.compile(r"available\s*0\s*reserved\s*2", re.I))
        expect(page.get_by_role("progressbar", name=re.compile(r"of Synced2$"))).to_be_visible()
        expect(page.locator("#queues")).to_contain_text("0 of 2 songs")
    for selector in ("#accounts", "#prompt-counts", "#prompts", "#queues"):
        assert text_of(left.page, selector) == text_of(right.page, selector), selector
    left.go("Events")  # each change is in the stream, saying which resource, what happened, and to which one
    renamed = left.page.get_by_role("row", name=re.compile("STATE_CHANGED · account renamed"))
    expect(renamed).to_contain_text('"id":"Synced2","old_id":"synced"')
    left.go("Studio")
    left.shot("live-studio-left")

    # the guardian's state too: a limit and a bonus set elsewhere
    for board in (left, right):
        board.go("Guardian")
    call(server, "SET_DAILY_LIMIT", {"child": "bob", "minutes": 75})
    call(server, "GRANT_BONUS_TIME", {"child": "bob", "minutes": 5})
    for board in (left, right):
        expect(board.page.locator("#week")).to_contain_text("limit 1 h 15 min")
        expect(board.page.locator("#usage")).to_contain_text("with 5 min bonus")
    assert text_of(left.page, "#usage") == text_of(right.page, "#usage")
    call(server, "REMOVE_QUEUE", {"queue_id": queue["queue_id"]})
    for board in (left, right):
        board.go("Studio")
        expect(board.page.locator("#queues")).not_to_contain_text("Synced2")


def test_the_studio_job_by_clicks(browser: Browser, server: WebServer, pages: list[Dashboard]) -> None:
    board = open_page(browser, server, pages, "studio")
    other = open_page(browser, server, pages, "studio")
    page = board.page
    page.get_by_role("textbox", name="Name", exact=True).fill("clicker")
    page.get_by_role("button", name="Create account").click()
    accounts = page.get_by_role("table", name="Accounts")
    expect(accounts.get_by_role("row", name=re.compile("clicker"))).to_be_visible()

    # prompts typed or pasted: one a line, many at once
    before = call(server, "GET_PROMPTS", {"status": "available", "limit": 1})["total"]
    page.get_by_role("textbox", name="New prompts, one a line").fill(
        "dreamy synthwave, female vocals\n\nNight Drive | synthwave | retro, 80s\nRain | ambient piano\n"
    )
    page.get_by_role("button", name="Add prompts").click()
    expect(page.get_by_text(re.compile(r"Added 3 prompts; \d+ are available\."))).to_be_visible()
    items = call(server, "GET_PROMPTS", {"status": "available", "limit": 100})["items"]
    assert len(items) == before + 3  # type: ignore[operator, arg-type]
    night = next(item for item in items if item["title"] == "Night Drive")  # type: ignore[union-attr, index]
    assert (night["style"], night["tags"]) == ("synthwave", ["retro", "80s"])  # type: ignore[index]

    # the session: checked from the page, seen by the other page (an event)
    page.get_by_role("button", name="Check the session of clicker").click()
    for shown in (board, other):
        row = shown.page.get_by_role("table", name="Accounts").get_by_role("row", name=re.compile("clicker"))
        expect(row).to_contain_text("not signed in")

    # a queue, started from the page: its run shows, or why it cannot run is said
    page.locator("#queue-create select[name=account_name]").select_option("clicker")
    page.get_by_role("spinbutton", name="Songs").fill("1")
    page.get_by_role("spinbutton", name="Per batch").fill("1")
    page.get_by_role("button", name="Create queue").click()
    start = page.get_by_role("button", name=re.compile("Start queue .* of clicker"))
    expect(start).to_be_visible()
    expect(other.page.get_by_role("button", name=re.compile("Start queue .* of clicker"))).to_be_visible()
    start.click()
    expect(page.locator("#queues-feedback")).to_have_text(re.compile(r"Started queue|session|sign|browser", re.I))
    board.shot("live-studio-job")


def test_the_guardian_job_by_clicks(browser: Browser, server: WebServer, pages: list[Dashboard]) -> None:
    board = open_page(browser, server, pages, "guardian")
    other = open_page(browser, server, pages, "guardian")
    page = board.page
    limit = page.locator("#limit")
    limit.get_by_label("Limit for").select_option("alice")
    limit.get_by_role("spinbutton", name="Daily limit (min)").fill("45")
    limit.get_by_role("button", name="Set daily limit").click()
    expect(page.get_by_text("alice may play 45 min a day.")).to_be_visible()
    expect(other.page.locator("#week")).to_contain_text("limit 45 min")

    # grant, then take time: both pages count the same allowance
    bonus = page.locator("#bonus")
    bonus.get_by_label("Child").select_option("alice")
    bonus.get_by_role("spinbutton", name="Minutes").fill("10")
    bonus.get_by_role("button", name="Grant bonus time").click()
    expect(page.get_by_text(re.compile("^Granted 10 min to alice"))).to_be_visible()
    bonus.get_by_role("spinbutton", name="Minutes").fill("4")
    bonus.get_by_role("button", name="Take time").click()
    expect(page.get_by_text(re.compile("^Took 4 min from alice"))).to_be_visible()
    for shown in (board, other):
        expect(shown.page.locator("#usage")).to_contain_text("alice0 min of 51 min (with 6 min bonus)")

    # allowed hours: two windows every day, one of Saturday's own; the other page follows
    hours = page.locator("#hours")
    hours.get_by_label("Hours for").select_option("bob")
    hours.get_by_role("textbox", name="Allowed hours").fill("07:00-08:00, 16:00-20:00")
    hours.get_by_role("button", name="Set allowed hours").click()
    expect(page.locator("#hours-feedback")).to_have_text("bob may play from 07:00 to 08:00, 16:00 to 20:00.")
    hours.get_by_label("On").select_option("saturday")
    hours.get_by_role("textbox", name="Allowed hours").fill("09:00-12:00")
    hours.get_by_role("button", name="Set allowed hours").click()
    expect(page.locator("#hours-feedback")).to_have_text("bob may play on saturday from 09:00 to 12:00.")
    other.page.locator("#hours").get_by_label("Hours for").select_option("bob")
    expect(other.page.locator("#hours-now")).to_have_text(
        "bob: every day 07:00-08:00, 16:00-20:00; saturday 09:00-12:00."
    )
    hours.get_by_role("textbox", name="Allowed hours").fill("7-8")  # refused by the page, not sent
    hours.get_by_role("button", name="Set allowed hours").click()
    expect(page.locator("#hours-feedback")).to_have_text("bob may play on saturday from 09:00 to 12:00.")
    kept = call(server, "GET_CONFIG", {})["children"]["bob"]
    assert kept["weekday_allowed_hours"] == {"saturday": [{"start": "09:00", "end": "12:00"}]}

    # lock until tomorrow, one child: bob is locked, alice is not; both pages say until when
    page.locator("#lock-child").select_option("bob")
    page.get_by_role("button", name="Lock until tomorrow").click()
    expect(page.locator("#game-feedback")).to_contain_text("bob locked until")
    for shown in (board, other):
        expect(shown.page.locator("#game-locks")).to_contain_text("bob: locked until")
        expect(shown.page.locator("#game-locks")).not_to_contain_text("alice")

    # the week reads right: seven days ending today, empty days drawn empty
    chart = page.get_by_role("img", name=re.compile("^alice, last 7 days"))
    days = chart.locator(".day")
    expect(days).to_have_count(7)
    expect(days.last.locator(".label")).to_have_text("Today")
    assert days.locator(".column:visible").count() == 0  # nobody played: no bar at all
    board.shot("live-guardian")


def test_headings_stay_in_sight_on_view_switches(browser: Browser, server: WebServer, pages: list[Dashboard]) -> None:
    board = open_page(browser, server, pages, "studio", width=800, height=600)
    page = board.page
    page.mouse.wheel(0, 2000)
    for section, heading in (("Guardian", "Guardian"), ("Events", "Events"), ("Studio", "Studio")):
        board.go(section)
        title = page.get_by_role("heading", name=heading, exact=True, level=2)
        expect(title).to_be_visible()
        header = page.locator("header.top").bounding_box()
        box = title.bounding_box()
        assert header is not None
        assert box is not None
        assert box["y"] >= header["y"] + header["height"] - 1, f"{heading} is under the sticky header"


def test_a_phone_shows_every_control_whole(browser: Browser, server: WebServer, pages: list[Dashboard]) -> None:
    call(server, "CREATE_ACCOUNT", {"name": "phone-account-with-a-long-name", "email": "someone@example.com"})
    board = open_page(browser, server, pages, "studio", **PHONE)
    page = board.page
    expect(page.get_by_role("button", name="Delete phone-account-with-a-long-name")).to_be_visible()
    for view in ("Studio", "Guardian", "Events"):
        board.go(view)
        page.wait_for_timeout(100)
        outside = page.evaluate(
            """(width) => [...document.querySelectorAll(".view:not([hidden]) :is(button, input, select, textarea, td)")]
                .filter((element) => element.getClientRects().length > 0)
                .map((element) => [element.getAttribute("aria-label") || element.textContent.trim().slice(0, 40)
                                   || element.name, element.getBoundingClientRect()])
                .filter(([, box]) => box.left < 0 || box.right > width + 0.5)
                .map(([name, box]) => `${name}: ${Math.round(box.left)}..${Math.round(box.right)}`)""",
            PHONE["width"],
        )
        assert outside == [], f"{view}: cut off on a phone: {outside}"
        board.shot(f"phone-{view.lower()}")


def test_the_event_filter_searches_the_server_log(browser: Browser, server: WebServer, pages: list[Dashboard]) -> None:
    call(server, "EMIT", {"type": "NEEDLE_EVENT", "count": 1})
    call(server, "EMIT", {"type": "HAY_EVENT", "count": 1200})  # the page loads the last 200; the log pages by 1000
    board = open_page(browser, server, pages, "events")
    page = board.page
    events = page.get_by_role("table", name="Events, newest first")
    page.get_by_role("searchbox", name="Containing").fill("needle_event")
    expect(events.locator("tr[data-seq]")).to_have_count(0)  # not among what the page holds
    page.get_by_role("button", name="Search the log").click()
    expect(page.locator("#events-searched")).to_contain_text("Searched the server's whole log")
    expect(events.locator("tr[data-seq]")).to_have_count(1)
    expect(events.locator("tr[data-seq]")).to_contain_text("NEEDLE_EVENT")
    board.shot("live-events-search")
    page.get_by_role("searchbox", name="Containing").fill("")  # back to the live list
    expect(events.locator("tr[data-seq]")).not_to_have_count(1)


def test_a_change_made_elsewhere_leaves_what_the_user_is_typing(
    browser: Browser, server: WebServer, pages: list[Dashboard]
) -> None:
    """Every change reloads the hours panel, whoever made it: the summary follows at once, the field follows
    only while the user has not typed in it since it was filled."""
    board = open_page(browser, server, pages, "guardian")
    hours = board.page.locator("#hours")
    hours.get_by_label("Hours for").select_option("alice")
    hours.get_by_label("On").select_option("sunday")
    field = hours.get_by_role("textbox", name="Allowed hours")
    field.fill("10:00-11:00")

    sunday = {"child": "alice", "weekday": "sunday"}
    call(server, "SET_ALLOWED_HOURS", {**sunday, "windows": [{"start": "14:00", "end": "15:00"}]})
    expect(board.page.locator("#hours-now")).to_contain_text("sunday 14:00-15:00")
    expect(field).to_have_value("10:00-11:00")
    hours.get_by_role("button", name="Set allowed hours").click()
    expect(board.page.locator("#hours-feedback")).to_have_text("alice may play on sunday from 10:00 to 11:00.")

    call(server, "SET_ALLOWED_HOURS", {**sunday, "windows": [{"start": "16:00", "end": "17:00"}]})
    expect(field).to_have_value("16:00-17:00")
