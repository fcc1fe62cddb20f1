"""``CREATE_SONGS_BATCH`` as an operation: songs made one after another on the account's create page.

A song that fails is reported and the batch goes on; the operation fails
(``BATCH_CREATION_FAILED``) only when no song could be made. Without
``auto_submit`` the form is filled with the first prompt and left for the
user to press Create.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import msgspec

from deskbridge.errors import CommandError
from deskbridge.operations import Operation, Operations
from deskbridge.studio.creation.create_form import SongFailed
from deskbridge.studio.creation.creator import Creator, batch_failed
from deskbridge.studio.creation.options import AdvancedOptions, check_request
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library.prompts import PromptIn


class SongBatches(msgspec.Struct, frozen=True):
    operations: Operations
    creator: Creator

    async def start(
        self,
        account_name: str,
        prompts: Sequence[PromptIn],
        *,
        songs_per_session: int,
        advanced_options: AdvancedOptions,
        auto_submit: bool,
        workspace: str | None = None,
    ) -> Operation:
        """``CREATE_SONGS_BATCH``: the account, limits and model checked now, the songs made once the answer is out."""
        check_request(self.creator.endpoints.create_page, prompts, advanced_options)
        account = await asyncio.to_thread(self.creator.browsers.account_name, account_name)
        total = len(prompts)

        async def work(op: Operation) -> dict[str, Any]:
            page = await self.creator.page(account, workspace)
            if not auto_submit:
                first = prompts[0]
                try:
                    await self.creator.fill(page, first, advanced_options)
                except SongFailed as exc:
                    raise CommandError(StudioError.SONG_CREATION_FAILED, f"{first.title or 'song'}: {exc}") from None
                message = "The form is filled: press Create in the browser (auto_submit is false)"
                op.progress(title=first.title, status="processing", song_status="filled", message=message, progress=100)
                return {"submitted": False, "title": first.title, "message": message}
            songs = []
            for index, prompt in enumerate(prompts):
                if index and index % songs_per_session == 0:
                    page = await self.creator.page(account, workspace)
                op.progress(
                    title=prompt.title, prompt_index=index, status="processing", total=total,
                    message=f"Creating song {index + 1}/{total}", progress=index * 100 // total,
                )  # fmt: skip
                song = await self.creator.song(op, page, account, index, prompt, advanced_options)
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
