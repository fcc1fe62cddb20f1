"""The studio's online half by clicks, against the stand-in Suno: open an account's browser (it signs in),
check its session, fetch its clips, pick what to download in which format, see Suno's download allowance it
spends (only when ticked), read the operation's warnings, and find the downloads in its history."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from deskbridge_standins.suno import StandinControl
from tests.dashboard.support import Dashboard
from tests.studio.standin_studio import config_for, needs_chromium
from tests.studio.suno import support
from tests.webserver import WebServer

standin = support.standin
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    root = tmp_path_factory.mktemp("clips")
    config = config_for(standin, downloads={"authorize": True})  # the page must say false, not leave it out
    config["studio"]["browser"]["headless"] = True  # the page's "Open browser" on a machine with no display
    (root / "config.json").write_text(json.dumps(config))
    web = WebServer(["studio"], root / "data", "--config", str(root / "config.json"))
    yield web
    web.kill()


def test_fetch_clips_pick_and_download(
    browser: Browser, server: WebServer, standin: StandinControl, tmp_path: Path
) -> None:
    standin.reset()
    clips = standin.seed({"title": "Keep Me"}, {"title": "Skip Me"}, {"title": "Old One"})
    assert server.call("CREATE_ACCOUNT", {"name": "ada"})["success"]
    old = next(clip for clip in clips if clip["title"] == "Old One")
    earlier = [{"id": old["id"], "title": "Old One"}]
    recorded = server.call("RECORD_DOWNLOADS", {"account_name": "ada", "clips": earlier})
    assert recorded["success"], recorded
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    board = Dashboard(server, context.new_page())
    try:
        board.open("studio")
        page = board.page
        page.get_by_role("button", name="Open the browser for ada").click()
        expect(page.locator("#accounts-feedback")).to_contain_text("Opened a browser for ada", timeout=30_000)
        page.get_by_role("button", name="Check the session of ada").click()
        accounts = page.get_by_role("table", name="Accounts")
        expect(accounts.get_by_role("row", name=re.compile("ada"))).to_contain_text("signed in", timeout=30_000)

        page.locator("#clips-fetch select[name=account_name]").select_option("ada")
        page.get_by_role("button", name="Fetch clips").click()
        expect(page.locator("#clips-feedback")).to_have_text("3 clips of ada, 2 not downloaded yet.")
        expect(page.get_by_role("checkbox", name="Download Old One")).not_to_be_checked()
        expect(page.get_by_role("checkbox", name="Download Keep Me")).to_be_checked()
        page.get_by_role("checkbox", name="Download Skip Me").uncheck()
        out = tmp_path / "music"
        page.get_by_role("textbox", name="Folder").fill(str(out))

        # M4A of a locked clip spends one of Suno's downloads: not unless ticked, whatever the config says
        standin.downloads(limit=20, used=3)
        page.get_by_role("combobox", name="Download as").select_option("m4a")
        authorize = page.get_by_role("checkbox", name="Spend Suno's downloads on locked clips")
        expect(authorize).not_to_be_checked()
        page.get_by_role("button", name="Download selected").click()
        allowance = page.locator("#clips-allowance")
        expect(allowance).to_have_text("1 clip needs one of Suno's downloads (17 left of 20); 0 authorized.")
        authorize.check()
        standin.faults({"path": "/cdn/image_*", "status": 404, "times": None})  # the song is kept, with a warning
        page.get_by_role("button", name="Download selected").click()
        expect(page.locator("#clips-feedback")).to_contain_text("Downloading 1 clip as m4a to")
        expect(allowance).to_have_text("1 clip needs one of Suno's downloads (16 left of 20); 1 authorized.")
        fetched = page.get_by_role("table", name="Clips fetched").get_by_role("row", name=re.compile("Keep Me"))
        expect(fetched).to_contain_text("downloaded already")  # the column follows the history
        expect(page.get_by_role("checkbox", name="Download Keep Me")).not_to_be_checked()

        downloads = page.get_by_role("table", name="Downloaded clips")
        page.locator("#downloads-filter select").select_option("ada")
        expect(downloads).to_contain_text("Keep Me", timeout=30_000)
        expect(downloads).not_to_contain_text("Skip Me")
        assert [path.suffix for path in out.iterdir() if path.suffix in {".mp3", ".m4a"}] == [".m4a"]
        board.go("Operations")  # the batch counts what is done, not the place of the last clip
        finished = page.get_by_role("list", name="Finished").get_by_role("listitem").filter(has_text="BATCH_DOWNLOAD")
        finished = finished.filter(has_text="completed")
        expect(finished).to_contain_text("1 of 1 done")
        expect(finished).to_contain_text("completed")
        # the seed's WARNING_UPDATE carries no status: listed under the operation, it leaves its state alone
        notices = finished.get_by_role("list", name=re.compile("notices"))
        expect(notices).to_contain_text("NO_COVER: Keep Me was saved without its cover")
        page.reload()  # a page opened afresh lists it again, from the events it catches up on
        board.go("Operations")
        expect(notices).to_contain_text("NO_COVER: Keep Me was saved without its cover")
        board.go("Studio")
        board.shot("clips")
    finally:
        context.close()
        server.call("CLOSE_BROWSER", {"account_name": "ada"})
    assert board.errors == []
