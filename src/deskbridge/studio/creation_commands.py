"""CREATE_SONGS_BATCH and START_QUEUE_EXECUTION: seed 000's song creation, as operations in the accounts' browsers.

The command answers at once with an ``operation_id``; ``SONG_CREATION_PROGRESS``
follows each song, ``WARNING_UPDATE`` tells of a captcha or a full queue,
``ERROR_UPDATE`` of a song that failed (the others go on). The operation
fails with ``BATCH_CREATION_FAILED`` only when no song could be made.
START_QUEUE_EXECUTION is :mod:`.queue_runner`'s.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from deskbridge.operations import Operation, Operations
from deskbridge.router import Commands
from deskbridge.studio.creator import AdvancedOptions, Creator, batch_failed
from deskbridge.studio.fields import AccountNameField, Identifier
from deskbridge.studio.prompts import PromptIn
from deskbridge.studio.queue_runner import QueueRunner

Prompts = Annotated[list[PromptIn], msgspec.Meta(min_length=1, max_length=1_000)]
PerSession = Annotated[int, msgspec.Meta(ge=1, le=1_000)]
QueueIds = Annotated[list[Identifier], msgspec.Meta(min_length=1, max_length=1_000)]


class CreateSongsBatchPayload(msgspec.Struct, kw_only=True):
    account_name: AccountNameField
    prompts: Prompts
    songs_per_session: PerSession = 1
    """Songs made on one load of the create page before it is loaded afresh."""
    advanced_options: AdvancedOptions = msgspec.field(default_factory=AdvancedOptions)
    auto_submit: bool = False
    """False: fill the form with the first prompt and leave it for the user to press Create."""


class StartQueueExecutionPayload(msgspec.Struct, kw_only=True):
    queue_ids: QueueIds


@dataclass(frozen=True)
class Creation:
    operations: Operations
    creator: Creator

    async def batch(self, payload: CreateSongsBatchPayload) -> Operation:
        account = await asyncio.to_thread(self.creator.browsers.account_name, payload.account_name)
        total = len(payload.prompts)

        async def work(op: Operation) -> dict[str, Any]:
            page = await self.creator.page(account)
            if not payload.auto_submit:
                first = payload.prompts[0]
                await self.creator.fill(page, first, payload.advanced_options)
                message = "The form is filled: press Create in the browser (auto_submit is false)"
                op.progress(title=first.title, status="processing", song_status="filled", message=message, progress=100)
                return {"submitted": False, "title": first.title, "message": message}
            songs = []
            for index, prompt in enumerate(payload.prompts):
                if index and index % payload.songs_per_session == 0:
                    page = await self.creator.page(account)
                op.progress(
                    title=prompt.title, prompt_index=index, status="processing", total=total,
                    message=f"Creating song {index + 1}/{total}", progress=index * 100 // total,
                )  # fmt: skip
                song = await self.creator.song(op, page, account, index, prompt, payload.advanced_options)
                songs.append(song)
                op.progress(
                    title=song.title, prompt_index=index, status="processing", song_status=song.status,
                    song_ids=song.clip_ids, song_id=song.clip_ids[0] if song.clip_ids else None,
                    message=song.error or f"Created song {index + 1}/{total}",
                    progress=(index + 1) * 100 // total, total=total,
                )  # fmt: skip
            made = [song for song in songs if song.status == "created"]
            if not made:
                raise batch_failed(songs)
            return {
                "submitted": True,
                "created": len(made),
                "failed": total - len(made),
                "songs": msgspec.to_builtins(songs),
            }

        return self.operations.prepare("CREATE_SONGS_BATCH", "SONG_CREATION_PROGRESS", work, {"total": total})


def register(commands: Commands, creation: Creation, runner: QueueRunner) -> None:
    @commands.command("CREATE_SONGS_BATCH")
    async def create_songs_batch(payload: CreateSongsBatchPayload) -> Operation:
        """Make songs from prompts on the account's create page (submitting only with auto_submit); an operation."""
        return await creation.batch(payload)

    @commands.command("START_QUEUE_EXECUTION")
    async def start_queue_execution(payload: StartQueueExecutionPayload) -> Operation:
        """Run queues: each account's in its own browser, all accounts at once; resumable; an operation."""
        return await runner.start(payload.queue_ids)
