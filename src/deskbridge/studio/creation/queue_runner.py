"""START_QUEUE_EXECUTION: queues turned into songs, each account's in its own browser, at the same time.

A queue's songs are made in order, ``songs_per_batch`` to a batch, and its
``completed_count`` is saved after every song, so a backend killed at any
moment resumes where it was. The one song that may have been in flight is
not submitted twice: when a queue resumes, the account's feed is first asked
for clips with that prompt's title and lyrics, and those are awaited instead.
Cancelling stops the run and leaves each queue ``in_progress`` with its
count saved: starting it again resumes it. A song that fails is reported
(``ERROR_UPDATE``) and counted as done; the queue goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from deskbridge.errors import CommandError
from deskbridge.events import EventSink
from deskbridge.operations import Operation, Operations
from deskbridge.studio.creation.creator import Creator, Song
from deskbridge.studio.creation.options import AdvancedOptions
from deskbridge.studio.errors import StudioError
from deskbridge.studio.fields import OffsetPage
from deskbridge.studio.library import names
from deskbridge.studio.library.prompts import Prompt, PromptIn
from deskbridge.studio.library.queues import Queue

if TYPE_CHECKING:
    from deskbridge.studio.suno.api import SunoClient

RUNNABLE: Final = frozenset({"pending", "in_progress"})


class QueueStore(Protocol):
    """What running queues needs of the stored ones: all of them, and each one's progress saved."""

    def all(self, account_name: str | None) -> list[Queue]: ...

    def update_progress(self, queue_id: str, completed: int, status: str, message: str) -> Queue: ...


class QueuePrompts(Protocol):
    """A queue's prompts, in order."""

    def page(self, status: str, queue_id: str | None, limit: int, offset: int) -> OffsetPage[Prompt]: ...


class QueueRunner(msgspec.Struct):
    operations: Operations
    events: EventSink
    queues: QueueStore
    library: QueuePrompts
    creator: Creator
    suno_client: Callable[[str], Awaitable[SunoClient]]
    """The account's Suno client (``SESSION_NOT_FOUND`` without a session)."""

    async def start(self, queue_ids: Sequence[str]) -> Operation:
        """Check the queues can run, then run them in an operation whose events are ``QUEUE_PROGRESS``."""
        queues = await asyncio.to_thread(self._runnable, queue_ids)
        by_account: dict[str, list[Queue]] = {}
        for queue in queues:
            by_account.setdefault(names.name_key(queue.account_name), []).append(queue)

        async def work(op: Operation) -> dict[str, Any]:
            runs = [self._account(op, account_queues) for account_queues in by_account.values()]
            finished = await asyncio.gather(*runs)
            return {"queues": [summary for summaries in finished for summary in summaries]}

        data = {"queue_ids": [queue.queue_id for queue in queues]}
        return self.operations.prepare("START_QUEUE_EXECUTION", "QUEUE_PROGRESS", work, data)

    def _runnable(self, queue_ids: Sequence[str]) -> list[Queue]:
        known = {queue.queue_id: queue for queue in self.queues.all(None)}
        missing = [queue_id for queue_id in queue_ids if queue_id not in known]
        if missing:
            raise CommandError(StudioError.QUEUE_NOT_FOUND, f"there is no queue {missing[0]!r}", {"queue_ids": missing})
        done = [queue_id for queue_id in queue_ids if known[queue_id].status not in RUNNABLE]
        if done:
            raise CommandError(
                StudioError.INVALID_QUEUE_PARAMETERS,
                f"queue {done[0]!r} is {known[done[0]].status}: only pending or in_progress queues run",
                {"queue_ids": done},
            )
        return [known[queue_id] for queue_id in dict.fromkeys(queue_ids)]

    async def _account(self, op: Operation, queues: list[Queue]) -> list[dict[str, Any]]:
        """One account's queues, one after another, in its one browser."""
        return [await self._queue(op, queue) for queue in queues]

    async def _queue(self, op: Operation, queue: Queue) -> dict[str, Any]:
        account, total, per_batch = queue.account_name, queue.total_songs, queue.songs_per_batch
        prompts = (await asyncio.to_thread(self.library.page, "all", queue.queue_id, total, 0)).items
        resuming = queue.status == "in_progress"
        page = await self.creator.page(account, queue.workspace)
        failed = 0
        for index in range(queue.completed_count, total):
            batch, batches = index // per_batch + 1, -(-total // per_batch)
            if index % per_batch == 0 or index == queue.completed_count:
                self._event(
                    "BATCH_PROGRESS", op, queue, batch=batch, batches=batches, message=f"Batch {batch}/{batches}"
                )
            await self._save(queue, index, f"Song {index + 1}/{total} (batch {batch}/{batches})")
            op.progress(queue_id=queue.queue_id, completed=index, total=total, message=f"Batch {batch}/{batches}")
            prompt = _prompt_in(prompts[index])
            first_of_resumed = resuming and index == queue.completed_count
            made_earlier = await self._made_earlier(account, prompt) if first_of_resumed else None
            song = await self.creator.song(
                op, page, account, index, prompt, AdvancedOptions(), queue.queue_id, made_earlier
            )
            failed += song.status == "failed"
            await self._save(queue, index + 1, _message(song, index, total))
            self._event("SONG_PROGRESS", op, queue, **_song_fields(song, index, total))
        return {"queue_id": queue.queue_id, "account_name": account, "completed": total, "failed": failed}

    async def _made_earlier(self, account: str, prompt: PromptIn) -> list[str] | None:
        """The clips a killed run already asked for with this prompt, if Suno has them."""
        suno = await self.suno_client(account)
        clips = [
            clip.id
            for clip in await suno.library()
            if (clip.title or "") == prompt.title and (clip.metadata.prompt or "") == prompt.lyrics
        ]
        return clips[:2] or None

    async def _save(self, queue: Queue, completed: int, message: str) -> None:
        status = "completed" if completed == queue.total_songs else "in_progress"
        await asyncio.to_thread(self.queues.update_progress, queue.queue_id, completed, status, message)

    def _event(self, event_type: str, op: Operation, queue: Queue, **fields: Any) -> None:
        self.events.progress(
            event_type,
            {"operation_id": op.id, "queue_id": queue.queue_id, "account_name": queue.account_name, **fields},
        )


def _prompt_in(prompt: Prompt) -> PromptIn:
    return PromptIn(title=prompt.title, lyrics=prompt.lyrics, style=prompt.style, tags=prompt.tags)


def _message(song: Song, index: int, total: int) -> str:
    return f"Song {index + 1}/{total} {'failed: ' + (song.error or '') if song.status == 'failed' else 'created'}"


def _song_fields(song: Song, index: int, total: int) -> dict[str, Any]:
    return {
        "prompt_index": index,
        "title": song.title,
        "song_status": song.status,
        "song_ids": song.clip_ids,
        "completed": index + 1,
        "total": total,
        "progress": (index + 1) * 100 // total,
        "message": _message(song, index, total),
    }
