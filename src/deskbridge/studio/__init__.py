"""studio (seed 000): a song-studio backend for Suno."""

from __future__ import annotations

import logging

import httpx

from deskbridge.app import AppContext, AppSpec
from deskbridge.paths import ensure_dir
from deskbridge.router import Commands
from deskbridge.store import Database
from deskbridge.studio import creation_commands, suno_commands
from deskbridge.studio.accounts import AccountManager
from deskbridge.studio.browser import Browsers
from deskbridge.studio.commands import Studio, register
from deskbridge.studio.config import settings_from_config
from deskbridge.studio.creator import Creator
from deskbridge.studio.downloads import Downloads
from deskbridge.studio.downloads_history import DownloadHistory
from deskbridge.studio.errors import ERROR_CODES
from deskbridge.studio.history import CreationHistory
from deskbridge.studio.notices import Notices
from deskbridge.studio.profiles import Profiles
from deskbridge.studio.prompts import PromptLibrary
from deskbridge.studio.queue_runner import QueueRunner
from deskbridge.studio.queues import QueueManager
from deskbridge.studio.recent_clips import RecentClips
from deskbridge.studio.schema import MIGRATIONS
from deskbridge.studio.sessions import Sessions

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
QUIET_LOGGERS = ("httpx", "httpcore")
"""They log every request's URL at INFO; a signed download URL is a credential and stays out of the log."""

EVENT_TYPES = (
    "QUEUE_PROGRESS", "BATCH_PROGRESS", "SONG_PROGRESS", "DOWNLOAD_PROGRESS",
    "BATCH_DOWNLOAD_PROGRESS", "SONG_CREATION_PROGRESS", "ERROR_UPDATE", "WARNING_UPDATE",
)  # fmt: skip


def build(context: AppContext) -> Commands:
    """Open the studio's database under its data dir and wire the managers to the commands."""
    settings = settings_from_config(context.config)
    data_dir = ensure_dir(context.data_dir)
    db = Database(data_dir / "studio.db", MIGRATIONS, name="studio database")
    context.on_close(db.close)
    clock = context.clock
    library = PromptLibrary(db, clock)
    queues = QueueManager(db, clock, library, context.events.progress)
    history = CreationHistory(db, clock)
    accounts = AccountManager(db, clock, Profiles(data_dir / "profiles"), queues, history)
    accounts.recover()
    downloads = DownloadHistory(db, clock)
    http = httpx.AsyncClient(
        timeout=HTTP_TIMEOUT,
        follow_redirects=True,
        event_hooks={"response": [Notices(context.events).on_response]},
    )
    context.on_close(http.aclose)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    browsers = Browsers(settings.browser, accounts, settings.endpoints.site(settings.endpoints.sign_in_path))
    context.on_close(browsers.close_all)
    sessions = Sessions(browsers, settings, http, clock)
    commands = Commands()
    register(commands, Studio(accounts, library, queues, history, downloads))
    suno_commands.register(
        commands,
        suno_commands.Online(
            browsers,
            sessions,
            RecentClips(browsers, settings.endpoints, settings.browser),
            Downloads(context.operations, context.events, sessions, downloads, settings, http),
        ),
    )
    creator = Creator(browsers, settings.endpoints, Notices(context.events), history)
    runner = QueueRunner(context.operations, context.events, queues, library, creator, sessions)
    creation_commands.register(commands, creation_commands.Creation(context.operations, creator), runner)
    return commands


app = AppSpec(
    name="studio",
    version="0.1.0",
    description="Suno song studio: accounts, prompt queues, batch creation, downloads, history",
    build=build,
    event_types=EVENT_TYPES,
    error_codes=ERROR_CODES,
)
