"""The studio's commands: payload types (checked before a handler runs) and thin handlers.

Payload field names are the seed's; fields the seed does not have are
optional. Handlers are plain functions, run in worker threads, because every
one of them touches SQLite or the disk; ``GET_CREATION_HISTORY`` runs on the
loop while its page is cheap (a front end lists history often: the thread hop
was a third of its cost), and in a worker thread when it is not
(``Database.read``). docs/studio.md describes each command's ``data`` and errors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from deskbridge.changes import Changed
from deskbridge.payloads import Payload
from deskbridge.router import Commands
from deskbridge.studio.fields import (
    SINGLE_LINE,
    AccountNameField,
    Email,
    FilePath,
    Identifier,
    Limit,
    Message,
    Offset,
    OffsetPage,
    Timestamp,
    Workspace,
)
from deskbridge.studio.library import paging, prompt_files
from deskbridge.studio.library.accounts import Account, AccountManager, DeletedAccount, ProfilePath
from deskbridge.studio.library.download_history import (
    ClearedDownloads,
    Clips,
    Download,
    DownloadedClip,
    DownloadHistory,
    RecordedDownloads,
)
from deskbridge.studio.library.history import CreationHistory, Exported, Record, RecordIn, RecordStatus
from deskbridge.studio.library.paging import JsonPage, Page, Paging
from deskbridge.studio.library.prompts import (
    AddedPrompts,
    DeletedPrompt,
    Prompt,
    PromptCheck,
    PromptId,
    PromptIn,
    PromptLibrary,
)
from deskbridge.studio.library.queues import MAX_SONGS, ClearedQueues, Queue, QueueManager, QueueStatus, RemovedQueue
from deskbridge.studio.suno.models import Format

Prompts = Annotated[list[PromptIn], msgspec.Meta(max_length=MAX_SONGS)]


class CreateAccountPayload(Payload):
    name: AccountNameField
    email: Email | None = None


class UpdateAccountPayload(Payload):
    name: AccountNameField
    last_used: Timestamp | None = None
    email: Email | None = None


class RenameAccountPayload(Payload):
    old_name: AccountNameField
    new_name: AccountNameField


class DeleteAccountPayload(Payload):
    name: AccountNameField
    delete_profile: bool = False


class AccountRef(Payload):
    name: AccountNameField


class GetAccountsPayload(Paging, kw_only=True):
    pass


class GetQueuesPayload(Paging, kw_only=True):
    account_name: AccountNameField | None = None


class CreateQueuePayload(Payload):
    account_name: AccountNameField
    total_songs: int
    songs_per_batch: int
    prompts: Prompts | None = None
    workspace: Workspace | None = None
    """The Suno workspace (``project_id``) the queue's songs are filed in."""


class QueueRef(Payload):
    queue_id: Identifier


class UpdateQueueProgressPayload(Payload):
    queue_id: Identifier
    completed_count: int
    status: QueueStatus
    message: Message = ""


class ValidatePromptsPayload(Payload):
    requested_total: Annotated[int, msgspec.Meta(ge=1)]


class AddPromptsPayload(Payload):
    prompts: Annotated[list[PromptIn], msgspec.Meta(min_length=1, max_length=prompt_files.MAX_PROMPTS)]


class ImportPromptsPayload(Payload):
    path: FilePath
    format: prompt_files.FileFormat | None = None


class GetPromptsPayload(Payload):
    status: Literal["available", "reserved", "used", "all"] = "all"
    queue_id: Identifier | None = None
    limit: Limit = 100
    offset: Offset = 0


class PromptRef(Payload):
    prompt_id: PromptId


class DownloadHistoryPayload(Paging, kw_only=True):
    account_name: AccountNameField


class GetNewClipsPayload(Payload):
    account_name: AccountNameField
    all_clips: Clips
    format: Format | None = None
    """Only clips not downloaded in this format; any format when not given."""


class RecordDownloadsPayload(Payload):
    account_name: AccountNameField
    clips: Annotated[list[DownloadedClip], msgspec.Meta(min_length=1, max_length=10_000)]


class AccountNamePayload(Payload):
    account_name: AccountNameField


class CreationHistoryPayload(Paging, kw_only=True):
    account_name: AccountNameField | None = None
    status: RecordStatus | None = None


class AddCreationRecordPayload(Payload):
    record: RecordIn


class ExportHistoryPayload(Payload):
    output_path: FilePath
    account_name: AccountNameField | None = None
    overwrite: bool = False
    escape_formulas: bool = True


class SearchHistoryPayload(Paging, kw_only=True):
    keyword: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=SINGLE_LINE)]
    account_name: AccountNameField | None = None


class Studio(msgspec.Struct, frozen=True):
    """The managers the handlers call."""

    accounts: AccountManager
    prompts: PromptLibrary
    queues: QueueManager
    history: CreationHistory
    downloads: DownloadHistory


def register(commands: Commands, studio: Studio, changed: Changed) -> None:
    """Add the library's commands to ``commands``; each one that changes state says so through ``changed``."""
    _accounts(commands, studio.accounts, changed)
    _prompts(commands, studio.prompts, changed)
    _queues(commands, studio.queues, changed)
    _history(commands, studio.history, changed)
    _downloads(commands, studio.downloads, changed)


def _accounts(commands: Commands, accounts: AccountManager, changed: Changed) -> None:
    @commands.command("GET_ACCOUNTS")
    def get_accounts(payload: GetAccountsPayload) -> list[Account] | Page[Account]:
        """Every account by name (a list), or a page of them when paged or past the bound (docs/studio.md)."""
        return paging.listing(accounts.page(payload), payload)

    @commands.command("CREATE_ACCOUNT")
    def create_account(payload: CreateAccountPayload) -> Account:
        """Create an account and its browser profile directory."""
        account = accounts.create(payload.name, payload.email)
        changed("account", "created", id=account.name)
        return account

    @commands.command("UPDATE_ACCOUNT")
    def update_account(payload: UpdateAccountPayload) -> Account:
        """Set an account's last_used (now when omitted) and optionally its email."""
        account = accounts.update(payload.name, payload.last_used, payload.email)
        changed("account", "updated", id=account.name)
        return account

    @commands.command("RENAME_ACCOUNT")
    def rename_account(payload: RenameAccountPayload) -> Account:
        """Rename an account, its profile directory and every record naming it, all or nothing."""
        account = accounts.rename(payload.old_name, payload.new_name)
        changed("account", "renamed", id=account.name, old_id=payload.old_name)
        return account

    @commands.command("DELETE_ACCOUNT")
    def delete_account(payload: DeleteAccountPayload) -> DeletedAccount:
        """Delete an account, its queues and download history; delete_profile also removes its profile."""
        deleted = accounts.delete(payload.name, payload.delete_profile)
        changed("account", "deleted", id=deleted.name, removed_queues=deleted.removed_queues)
        return deleted

    @commands.command("GET_ACCOUNT_PROFILE_PATH")
    def get_account_profile_path(payload: AccountRef) -> ProfilePath:
        """Where an account's browser profile lives, and whether a browser has it open."""
        return accounts.profile(payload.name)


def _prompts(commands: Commands, prompts: PromptLibrary, changed: Changed) -> None:
    @commands.command("VALIDATE_PROMPTS")
    def validate_prompts(payload: ValidatePromptsPayload) -> PromptCheck:
        """Whether requested_total unused prompts are in the library, and how many are."""
        return prompts.check(payload.requested_total)

    @commands.command("ADD_PROMPTS")
    def add_prompts(payload: AddPromptsPayload) -> AddedPrompts:
        """Add prompts to the library."""
        added = prompts.add(payload.prompts)
        changed("prompts", "added", count=added.added, available=added.available, too_long=added.too_long)
        return added

    @commands.command("IMPORT_PROMPTS")
    def import_prompts(payload: ImportPromptsPayload) -> AddedPrompts:
        """Add the prompts of a JSON, CSV or text file to the library (all or none)."""
        read = prompt_files.read(payload.path, payload.format)
        added = prompts.add(read.prompts, read.places)
        changed("prompts", "added", count=added.added, available=added.available, too_long=added.too_long)
        return added

    @commands.command("GET_PROMPTS")
    def get_prompts(payload: GetPromptsPayload) -> OffsetPage[Prompt]:
        """A page of the library, filtered by status and queue."""
        return prompts.page(payload.status, payload.queue_id, payload.limit, payload.offset)

    @commands.command("DELETE_PROMPT")
    def delete_prompt(payload: PromptRef) -> DeletedPrompt:
        """Delete a prompt that no queue holds."""
        deleted = prompts.delete(payload.prompt_id)
        changed("prompts", "deleted", id=deleted.prompt_id)
        return deleted


def _queues(commands: Commands, queues: QueueManager, changed: Changed) -> None:
    @commands.command("GET_QUEUES")
    def get_queues(payload: GetQueuesPayload) -> list[Queue] | Page[Queue]:
        """Every queue (of one account when account_name is given) oldest first, or a page of them (docs/studio.md)."""
        return paging.listing(queues.page(payload.account_name, payload), payload)

    @commands.command("CREATE_QUEUE")
    def create_queue(payload: CreateQueuePayload) -> Queue:
        """Create a pending queue from the given prompts, then unused prompts of the library."""
        queue = queues.create(
            payload.account_name, payload.total_songs, payload.songs_per_batch, payload.prompts, payload.workspace
        )
        changed("queue", "created", id=queue.queue_id, account_name=queue.account_name)
        return queue

    @commands.command("REMOVE_QUEUE")
    def remove_queue(payload: QueueRef) -> RemovedQueue:
        """Remove a queue; its unused prompts go back to the library."""
        removed = queues.remove(payload.queue_id)
        changed("queue", "removed", id=removed.queue_id, released_prompts=removed.released_prompts)
        return removed

    @commands.command("UPDATE_QUEUE_PROGRESS")
    def update_queue_progress(payload: UpdateQueueProgressPayload) -> Queue:
        """Record a queue's completed count and status, refusing impossible moves."""
        queue = queues.update_progress(payload.queue_id, payload.completed_count, payload.status, payload.message)
        changed("queue", "updated", id=queue.queue_id, status=queue.status, completed_count=queue.completed_count)
        return queue

    @commands.command("CLEAR_QUEUES")
    def clear_queues() -> ClearedQueues:
        """Remove every queue; unused prompts go back to the library."""
        cleared = queues.clear()
        changed("queue", "cleared", ids=cleared.queue_ids, released_prompts=cleared.released_prompts)
        return cleared


def _history(commands: Commands, history: CreationHistory, changed: Changed) -> None:
    @commands.command("GET_CREATION_HISTORY", inline=True, data=Page[Record])
    def get_creation_history(payload: CreationHistoryPayload) -> JsonPage:
        """Creation records newest first, of one account or all, a page at a time."""
        return history.page(payload.account_name, payload.status, payload)

    @commands.command("ADD_CREATION_RECORD")
    def add_creation_record(payload: AddCreationRecordPayload) -> Record:
        """Record a song made for an account (a known song_id is updated)."""
        record = history.add(payload.record)
        changed("creation_history", "recorded", id=record.song_id, account_name=record.account_name)
        return record

    @commands.command("EXPORT_HISTORY_TO_CSV")
    def export_history_to_csv(payload: ExportHistoryPayload) -> Exported:
        """Write the creation history to a new CSV file at an absolute path."""
        return history.export(payload.output_path, payload.account_name, payload.overwrite, payload.escape_formulas)

    @commands.command("SEARCH_HISTORY", data=Page[Record])
    def search_history(payload: SearchHistoryPayload) -> JsonPage:
        """Creation records whose title, lyrics, style or tags contain every word of keyword."""
        return history.search(payload.keyword, payload.account_name, payload)


def _downloads(commands: Commands, downloads: DownloadHistory, changed: Changed) -> None:
    @commands.command("GET_DOWNLOAD_HISTORY")
    def get_download_history(payload: DownloadHistoryPayload) -> Page[Download]:
        """An account's downloaded clips, newest first, a page at a time."""
        return downloads.page(payload.account_name, payload)

    @commands.command("GET_NEW_CLIPS")
    def get_new_clips(payload: GetNewClipsPayload) -> list[dict[str, Any]]:
        """The clips of all_clips this account has not downloaded, in the given order."""
        return downloads.new_clips(payload.account_name, payload.all_clips, payload.format)

    @commands.command("RECORD_DOWNLOADS")
    def record_downloads(payload: RecordDownloadsPayload) -> RecordedDownloads:
        """Remember clips as downloaded for an account."""
        recorded = downloads.record(payload.account_name, payload.clips)
        changed("download_history", "recorded", id=recorded.account_name, count=recorded.recorded)
        return recorded

    @commands.command("CLEAR_DOWNLOAD_HISTORY")
    def clear_download_history(payload: AccountNamePayload) -> ClearedDownloads:
        """Forget every download of an account."""
        cleared = downloads.clear(payload.account_name)
        changed("download_history", "cleared", id=cleared.account_name, count=cleared.cleared)
        return cleared
