"""studio (seed 000): a song-studio backend for Suno."""

from __future__ import annotations

from deskbridge.app import AppContext, AppSpec
from deskbridge.paths import ensure_dir
from deskbridge.router import Commands
from deskbridge.store import Database
from deskbridge.studio.accounts import AccountManager
from deskbridge.studio.commands import Studio, register
from deskbridge.studio.downloads_history import DownloadHistory
from deskbridge.studio.history import CreationHistory
from deskbridge.studio.profiles import Profiles
from deskbridge.studio.prompts import PromptLibrary
from deskbridge.studio.queues import QueueManager
from deskbridge.studio.schema import MIGRATIONS

NEEDS_OUTSIDE_SERVICES = (
    "LAUNCH_BROWSER", "GET_SESSION_TOKEN", "VERIFY_SESSION", "FETCH_CLIPS", "DOWNLOAD_CLIP",
    "BATCH_DOWNLOAD", "CREATE_SONGS_BATCH", "START_QUEUE_EXECUTION",
)  # fmt: skip

EVENT_TYPES = (
    "QUEUE_PROGRESS", "BATCH_PROGRESS", "SONG_PROGRESS", "DOWNLOAD_PROGRESS",
    "BATCH_DOWNLOAD_PROGRESS", "SONG_CREATION_PROGRESS", "ERROR_UPDATE", "WARNING_UPDATE",
)  # fmt: skip


def build(context: AppContext) -> Commands:
    """Open the studio's database under its data dir and wire the managers to the commands."""
    data_dir = ensure_dir(context.data_dir)
    db = Database(data_dir / "studio.db", MIGRATIONS, name="studio database")
    context.on_close(db.close)
    clock = context.clock
    library = PromptLibrary(db, clock)
    queues = QueueManager(db, clock, library, context.events.progress)
    history = CreationHistory(db, clock)
    accounts = AccountManager(db, clock, Profiles(data_dir / "profiles"), queues, history)
    accounts.recover()
    commands = Commands()
    register(commands, Studio(accounts, library, queues, history, DownloadHistory(db, clock)))
    for command_type in NEEDS_OUTSIDE_SERVICES:
        commands.not_implemented(
            command_type, "browser, Suno and download commands arrive with the next studio release"
        )
    return commands


app = AppSpec(
    name="studio",
    version="0.1.0",
    description="Suno song studio: accounts, prompt queues, batch creation, downloads, history",
    build=build,
    event_types=EVENT_TYPES,
)
