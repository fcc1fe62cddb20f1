"""CREATE_SONGS_BATCH and START_QUEUE_EXECUTION: seed 000's song creation, as operations in the accounts' browsers.

The command answers at once with an ``operation_id``; ``SONG_CREATION_PROGRESS``
follows each song, ``WARNING_UPDATE`` tells of a captcha or a full queue,
``ERROR_UPDATE`` of a song that failed (the others go on). The operation
fails with ``BATCH_CREATION_FAILED`` only when no song could be made.
The work is :mod:`.batch`'s and :mod:`.queue_runner`'s. CHECK_CREATE_PAGE
answers which controls of the create page the studio can still find
(:mod:`.page_check`).
"""

from __future__ import annotations

from typing import Annotated, Required, TypedDict

import msgspec

from deskbridge.operations import Operation
from deskbridge.payloads import Payload
from deskbridge.router import Commands
from deskbridge.studio.creation.batch import SongBatches
from deskbridge.studio.creation.creator import Song
from deskbridge.studio.creation.options import AdvancedOptions
from deskbridge.studio.creation.page_check import PageCheck, PageChecker
from deskbridge.studio.creation.queue_runner import QueueRunner
from deskbridge.studio.fields import AccountNameField, Identifier, Workspace
from deskbridge.studio.library.prompts import PromptIn

Prompts = Annotated[list[PromptIn], msgspec.Meta(min_length=1, max_length=1_000)]
PerSession = Annotated[int, msgspec.Meta(ge=1, le=1_000)]
QueueIds = Annotated[list[Identifier], msgspec.Meta(min_length=1, max_length=1_000)]


class CreateSongsBatchPayload(Payload):
    account_name: AccountNameField
    prompts: Prompts
    songs_per_session: PerSession = 1
    """Songs made on one load of the create page before it is loaded afresh."""
    advanced_options: AdvancedOptions = msgspec.field(default_factory=AdvancedOptions)
    auto_submit: bool = False
    """False: fill the form with the first prompt and leave it for the user to press Create."""
    workspace: Workspace | None = None
    """The Suno workspace (``project_id``) the songs are filed in; the account's current one if left out."""


class StartQueueExecutionPayload(Payload):
    queue_ids: QueueIds


class SongsCreated(TypedDict, total=False):
    """``CREATE_SONGS_BATCH``'s result: the songs made, or (``auto_submit`` false) the form left filled."""

    submitted: Required[bool]
    created: int
    failed: int
    songs: list[Song]
    title: str
    message: str


class SongCreationProgress(TypedDict, total=False):
    """``CREATE_SONGS_BATCH``'s progress fields (the latest of each)."""

    title: str
    prompt_index: int
    status: str
    song_status: str
    song_ids: list[str]
    song_id: str | None
    message: str
    progress: int
    total: int


class QueueRun(TypedDict):
    queue_id: str
    account_name: str
    completed: int
    failed: int


class QueuesRun(TypedDict):
    """``START_QUEUE_EXECUTION``'s result: each queue's outcome."""

    queues: list[QueueRun]


class QueueRunProgress(TypedDict):
    """``START_QUEUE_EXECUTION``'s progress fields (the latest of each)."""

    queue_id: str
    completed: int
    total: int
    message: str


class CheckCreatePagePayload(Payload):
    account_name: AccountNameField
    workspace: Workspace | None = None


def register(commands: Commands, batches: SongBatches, runner: QueueRunner, checker: PageChecker) -> None:
    @commands.command("CREATE_SONGS_BATCH", result=SongsCreated, progress=SongCreationProgress)
    async def create_songs_batch(payload: CreateSongsBatchPayload) -> Operation:
        """Make songs from prompts on the account's create page (submitting only with auto_submit); an operation."""
        return await batches.start(
            payload.account_name,
            payload.prompts,
            songs_per_session=payload.songs_per_session,
            advanced_options=payload.advanced_options,
            auto_submit=payload.auto_submit,
            workspace=payload.workspace,
        )

    @commands.command("START_QUEUE_EXECUTION", result=QueuesRun, progress=QueueRunProgress)
    async def start_queue_execution(payload: StartQueueExecutionPayload) -> Operation:
        """Run queues: each account's in its own browser, all accounts at once; resumable; an operation."""
        return await runner.start(payload.queue_ids)

    @commands.command("CHECK_CREATE_PAGE")
    async def check_create_page(payload: CheckCreatePagePayload) -> PageCheck:
        """Open the account's create page and find every control the studio needs, submitting nothing."""
        return await checker.check(payload.account_name, payload.workspace)
