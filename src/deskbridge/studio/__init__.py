"""studio (seed 000): a song-studio backend for Suno."""

from __future__ import annotations

from deskbridge.app import AppContext, AppSpec
from deskbridge.router import Commands

SEED_COMMANDS = (
    "GET_ACCOUNTS", "CREATE_ACCOUNT", "UPDATE_ACCOUNT", "RENAME_ACCOUNT", "DELETE_ACCOUNT",
    "GET_ACCOUNT_PROFILE_PATH", "GET_QUEUES", "CREATE_QUEUE", "REMOVE_QUEUE",
    "UPDATE_QUEUE_PROGRESS", "VALIDATE_PROMPTS", "CLEAR_QUEUES", "LAUNCH_BROWSER",
    "GET_SESSION_TOKEN", "VERIFY_SESSION", "GET_DOWNLOAD_HISTORY", "FETCH_CLIPS",
    "GET_NEW_CLIPS", "DOWNLOAD_CLIP", "BATCH_DOWNLOAD", "CLEAR_DOWNLOAD_HISTORY",
    "CREATE_SONGS_BATCH", "START_QUEUE_EXECUTION", "GET_CREATION_HISTORY",
    "ADD_CREATION_RECORD", "EXPORT_HISTORY_TO_CSV", "SEARCH_HISTORY",
)  # fmt: skip

EVENT_TYPES = (
    "QUEUE_PROGRESS", "BATCH_PROGRESS", "SONG_PROGRESS", "DOWNLOAD_PROGRESS",
    "BATCH_DOWNLOAD_PROGRESS", "SONG_CREATION_PROGRESS", "ERROR_UPDATE", "WARNING_UPDATE",
)  # fmt: skip


def build(context: AppContext) -> Commands:
    commands = Commands()
    for command_type in SEED_COMMANDS:
        commands.not_implemented(command_type, "the studio's managers have not landed in this version")
    return commands


app = AppSpec(
    name="studio",
    version="0.1.0",
    description="Suno song studio: accounts, prompt queues, batch creation, downloads, history",
    build=build,
    event_types=EVENT_TYPES,
)
