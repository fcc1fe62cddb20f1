"""studio (seed 000): a song-studio backend for Suno."""

from __future__ import annotations

from functools import partial

from deskbridge.app import AppContext, AppSpec
from deskbridge.paths import ensure_dir
from deskbridge.router import Commands
from deskbridge.store import Database
from deskbridge.studio.api_http import ApiHttp
from deskbridge.studio.browser import commands as browser_commands
from deskbridge.studio.browser.browsers import Browsers
from deskbridge.studio.browser.recent_clips import RecentClips
from deskbridge.studio.browser.sessions import Sessions
from deskbridge.studio.config import settings_from_config
from deskbridge.studio.creation import commands as creation_commands
from deskbridge.studio.creation.batch import SongBatches
from deskbridge.studio.creation.creator import Creator
from deskbridge.studio.creation.page_check import PageChecker
from deskbridge.studio.creation.queue_runner import QueueRunner
from deskbridge.studio.downloads import commands as download_commands
from deskbridge.studio.downloads.manager import Downloads
from deskbridge.studio.errors import ERROR_CODES
from deskbridge.studio.library import commands as library_commands
from deskbridge.studio.library.accounts import AccountManager
from deskbridge.studio.library.download_history import DownloadHistory
from deskbridge.studio.library.history import CreationHistory
from deskbridge.studio.library.profiles import Profiles
from deskbridge.studio.library.prompts import PromptLibrary
from deskbridge.studio.library.queues import QueueManager
from deskbridge.studio.library.schema import MIGRATIONS
from deskbridge.studio.notices import Notices

EVENT_TYPES = (
    "QUEUE_PROGRESS", "BATCH_PROGRESS", "SONG_PROGRESS", "DOWNLOAD_PROGRESS",
    "BATCH_DOWNLOAD_PROGRESS", "SONG_CREATION_PROGRESS", "ERROR_UPDATE", "WARNING_UPDATE",
)  # fmt: skip


def build(context: AppContext) -> Commands:
    """Open the studio's database under its data dir and wire the managers to the commands.

    The only place that knows every wing: each manager gets its clock, paths,
    clients and the one :class:`Notices` here, and each wing's ``commands``
    registers its handlers on the managers it is given.
    """
    settings = settings_from_config(context.config)
    data_dir = ensure_dir(context.data_dir)
    db = Database(data_dir / "studio.db", MIGRATIONS, name="studio database")
    context.on_close(db.close)
    clock = context.clock
    limits = settings.endpoints.create_page.limits  # checked up front; a queue's song re-checks them at its turn
    library = PromptLibrary(db, clock, limits)
    queues = QueueManager(db, clock, library, context.events.progress, limits)
    history = CreationHistory(db, clock)
    accounts = AccountManager(db, clock, Profiles(data_dir / "profiles"), queues, history)
    accounts.recover()
    downloads = DownloadHistory(db, clock)
    notices = Notices(context.events)
    http = ApiHttp(notices)
    context.on_close(http.aclose)
    browsers = Browsers(settings.browser, accounts, settings.endpoints.site(settings.endpoints.sign_in_path))
    context.on_close(browsers.close_all)
    sessions = Sessions(browsers, settings, http, clock)
    commands = Commands()
    library_commands.register(
        commands, library_commands.Studio(accounts, library, queues, history, downloads), context.changed
    )
    recent_clips = RecentClips(browsers, settings.endpoints, settings.browser)
    browser_commands.register(commands, browser_commands.Online(browsers, sessions, recent_clips), context.changed)
    signed_if_possible = partial(sessions.client, required=False)  # a CDN download needs no token
    download_commands.register(
        commands,
        Downloads(
            context.operations, context.events, notices, signed_if_possible, downloads, settings, http, context.changed
        ),
    )
    creator = Creator(browsers, settings.endpoints, notices, history.add, context.changed)
    signed = partial(sessions.client, None, required=True)
    runner = QueueRunner(context.operations, context.events, queues, library, creator, signed)
    creation_commands.register(commands, SongBatches(context.operations, creator), runner, PageChecker(creator))
    return commands


app = AppSpec(
    name="studio",
    version="0.1.0",
    description="Suno song studio: accounts, prompt queues, batch creation, downloads, history",
    build=build,
    event_types=EVENT_TYPES,
    error_codes=ERROR_CODES,
)
