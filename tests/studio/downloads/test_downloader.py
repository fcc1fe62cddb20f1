"""The downloader against the stand-in Suno: real HTTP on 127.0.0.1, real files, real tags read back."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st
from mutagen.id3 import ID3, TIT2, TSSE, WOAR
from mutagen.mp3 import MP3

from deskbridge.errors import CommandError, ErrorCode
from deskbridge.operations import OperationCancelled
from deskbridge.studio.downloads import audiocheck, framechain
from deskbridge.studio.downloads.allowance import AllowanceGate
from deskbridge.studio.downloads.downloader import PROGRESS_INTERVAL, Downloader, DownloadOptions, Unlocking
from deskbridge.studio.downloads.results import ClipOutcome, DownloadResult, FileProgress
from deskbridge.studio.errors import StudioError
from deskbridge.studio.suno.api import DownloadUsage
from deskbridge.studio.suno.models import Clip
from deskbridge.studio.suno.retry import RetryPolicy
from deskbridge_standins.suno import StandinControl
from deskbridge_standins.suno.media import silent_mp3
from tests.robustness.support import tmpfs
from tests.studio.suno import support
from tests.studio.suno.support import FastSleep, client_for
from tests.studio.writers import killed_writer, live_writer

# The shared stand-in fixtures (see tests/studio/suno/support.py), bound here by name.
anyio_backend, http, sleep = support.anyio_backend, support.http, support.sleep
standin, suno = support.standin, support.suno

pytestmark = pytest.mark.anyio


@pytest.fixture
def downloader(suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep) -> Downloader:
    return Downloader(http, client_for(suno, http, sleep), retry=RetryPolicy(attempts=4), sleep=sleep)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "music"


def clips(suno: StandinControl, *partials: dict[str, Any], replace: bool = True) -> list[Clip]:
    """Seed the stand-in and return the clips as the studio receives them."""
    return msgspec.convert(suno.seed(*partials, replace=replace), list[Clip], strict=False)


def audio_of(path: Path) -> bytes:
    """The file's bytes after its ID3 tag: what the server sent."""
    return path.read_bytes()[ID3(path).size :]


def files_in(directory: Path) -> list[str]:
    return sorted(entry.name for entry in directory.iterdir())


def text_of(path: Path) -> str:
    return path.read_text()


async def test_a_clip_is_fetched_checked_tagged_and_renamed(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(
        suno,
        {
            "title": "Night Drive",
            "display_name": "Ada",
            "metadata": {"tags": "synthwave, 80s", "prompt": "[Verse]\nNeon lights\n[Chorus]\nDrive"},
        },
    )
    events: list[FileProgress] = []
    result = await downloader.download(clip, out, **made(with_thumbnail=True), on_progress=events.append)

    assert sorted(r["path"] for r in suno.requests()) == [f"/cdn/{clip.id}.mp3", f"/cdn/image_large_{clip.id}.jpeg"]
    path = out / "Night Drive.mp3"
    assert result == DownloadResult(
        clip_id=clip.id,
        status="downloaded",
        file_name="Night Drive.mp3",
        path=str(path),
        bytes=path.stat().st_size,
        cover=True,
    )
    assert files_in(out) == ["Night Drive.mp3"], "no .part left"
    served = suno.fetch(str(clip.audio_url))
    assert audio_of(path) == served

    tags = ID3(path)
    assert tags.version == (2, 3, 0)
    assert str(tags["TIT2"]) == "Night Drive"
    assert str(tags["TPE1"]) == "Ada"
    assert str(tags["TCON"]) == "synthwave, 80s"
    assert tags.getall("WOAR")[0].url == f"{suno.base_url}/song/{clip.id}"
    assert tags.getall("USLT")[0].text == "[Verse]\nNeon lights\n[Chorus]\nDrive"
    (cover,) = tags.getall("APIC")
    assert (cover.type, cover.mime) == (3, "image/jpeg")
    assert cover.data == suno.fetch(str(clip.image_large_url))
    assert MP3(path).info.length == pytest.approx(len(served) * 8 / 128_000), "the audio frames are intact"

    last = events[-1]
    assert (last.clip_id, last.file_name, last.downloaded, last.total, last.progress) == (
        clip.id,
        "Night Drive.mp3",
        len(served),
        len(served),
        100,
    )
    assert last.speed > 0


async def test_the_small_cover_is_used_when_there_is_no_large_one_and_none_without_thumbnail(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    small, plain = clips(suno, {"title": "small", "image_large_url": None}, {"title": "plain"})
    await downloader.download(small, out)
    assert ID3(out / "small.mp3").getall("APIC")[0].data == suno.fetch(str(small.image_url))
    result = await downloader.download(plain, out, **made(with_thumbnail=False))
    assert not result.cover
    assert ID3(out / "plain.mp3").getall("APIC") == []
    assert str(ID3(out / "plain.mp3")["TIT2"]) == "plain", "the other tags are written anyway"
    assert not suno.requests(f"/cdn/image*{plain.id}.jpeg")


async def test_names_untitled_short_ids_and_clashes(suno: StandinControl, downloader: Downloader, out: Path) -> None:
    untitled, titled = clips(suno, {"title": ""}, {"title": "Same"})
    assert (await downloader.download(untitled, out)).file_name == f"Untitled {untitled.id}.mp3"
    assert str(ID3(out / f"Untitled {untitled.id}.mp3")["TIT2"]) == f"Untitled {untitled.id}"
    assert (await downloader.download(titled, out)).file_name == "Same.mp3"
    assert (await downloader.download(titled, out)).file_name == "Same (2).mp3"
    with_id = await downloader.download(titled, out, **made(append_uuid=True))
    assert with_id.file_name == f"Same [{titled.id[:8]}].mp3"


@pytest.mark.parametrize(
    ("title", "file_name"),
    [
        ("../../etc/passwd", "_.._etc_passwd.mp3"),
        ("CON", "_CON.mp3"),
        ("a/b\\c", "a_b_c.mp3"),
        ("夜のドライブ 🚗 — Ça va?", "夜のドライブ 🚗 — Ça va_.mp3"),
        ("x" * 400, "x" * 180 + ".mp3"),
        (" .. ", None),
    ],
)
async def test_hostile_titles_stay_inside_the_output_dir(
    suno: StandinControl, downloader: Downloader, out: Path, title: str, file_name: str | None
) -> None:
    (clip,) = clips(suno, {"title": title})
    result = await downloader.download(clip, out)
    expected = file_name or f"Untitled {clip.id}.mp3"
    assert result.file_name == expected
    assert files_in(out) == [expected]
    assert str(ID3(out / expected)["TIT2"]) == (title.strip() or f"Untitled {clip.id}"), "the tag keeps the title"


async def test_two_clips_with_one_title_in_one_batch_get_two_files(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    batch = clips(suno, {"title": "Twin"}, {"title": "Twin"}, {"title": "Twin"})
    results = await downloader.download_batch(batch, out, parallel=3)
    assert sorted(str(r.file_name) for r in results) == ["Twin (2).mp3", "Twin (3).mp3", "Twin.mp3"]
    assert files_in(out) == ["Twin (2).mp3", "Twin (3).mp3", "Twin.mp3"]


@pytest.fixture
def outside(out: Path, tmp_path: Path) -> Path:
    """A file outside the output dir, with symlinks to it planted at ``evil.mp3`` and ``evil (2).mp3.part``."""
    target = tmp_path / "outside.txt"
    target.write_text("precious")
    out.mkdir()
    (out / "evil.mp3").symlink_to(target)
    (out / "evil (2).mp3.part").symlink_to(target)
    return target


async def test_a_planted_symlink_is_never_written_through(
    suno: StandinControl, downloader: Downloader, out: Path, outside: Path
) -> None:
    (clip,) = clips(suno, {"title": "evil"})
    result = await downloader.download(clip, out)
    assert result.file_name == "evil (3).mp3"
    assert text_of(outside) == "precious"
    assert (out / "evil.mp3").is_symlink()


# -- a .part found where the song goes --------------------------------------------------


def plant(directory: Path, files: dict[str, bytes]) -> None:
    """``directory`` made, with ``files`` (name: bytes) in it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)


def plant_other(path: Path, kind: str, precious: Path) -> None:
    """Something at ``path`` that is not a lone regular file: a link (to ``precious`` or nowhere), a folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    precious.write_text("precious")
    if kind == "symbolic link":
        path.symlink_to(precious)
    elif kind == "dangling symbolic link":
        path.symlink_to(precious.with_name("nowhere"))
    elif kind == "hard link":
        path.hardlink_to(precious)
    else:
        path.mkdir()


@pytest.mark.parametrize("left_by", ["a killed download", "nobody"])
async def test_a_part_whose_writer_is_gone_gives_its_name_back(
    suno: StandinControl, downloader: Downloader, out: Path, left_by: str
) -> None:
    (clip,) = clips(suno, {"title": "Title"})
    if left_by == "nobody":
        plant(out, {"Title.mp3.part": b"ID3 and half a song"})
    else:
        plant(out, {})
        killed_writer(out / "Title.mp3.part")
    result = await downloader.download(clip, out)
    assert result.file_name == "Title.mp3", "the name it would have had"
    assert files_in(out) == ["Title.mp3"], "no stale .part is left"
    assert audio_of(out / "Title.mp3") == suno.fetch(str(clip.audio_url))


async def test_a_part_another_process_is_writing_is_left_alone(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(suno, {"title": "Title"})
    plant(out, {})
    with live_writer(out / "Title.mp3.part", "theirs, still coming"):
        result = await downloader.download(clip, out)
        assert result.file_name == "Title (2).mp3"
        assert text_of(out / "Title.mp3.part") == "theirs, still coming"
        assert files_in(out) == ["Title (2).mp3", "Title.mp3.part"]


async def test_a_part_a_download_of_this_process_is_writing_is_left_alone(
    suno: StandinControl, http: httpx.AsyncClient, downloader: Downloader, out: Path, sleep: FastSleep
) -> None:
    """Two backends in one process, one output folder: the second never takes the first one's .part."""
    first, second = clips(suno, {"title": "Twin"}, {"title": "Twin"})
    suno.faults({"path": f"/cdn/{first.id}.mp3", "kind": "delay", "seconds": 0.5})
    slow = asyncio.create_task(downloader.download(first, out))
    await asyncio.sleep(0.2)
    assert files_in(out) == ["Twin.mp3.part"], "the first download is under way"
    other = Downloader(http, client_for(suno, http, sleep))
    assert (await other.download(second, out)).file_name == "Twin (2).mp3"
    assert (await slow).file_name == "Twin.mp3"
    assert audio_of(out / "Twin.mp3") == suno.fetch(str(first.audio_url))
    assert audio_of(out / "Twin (2).mp3") == suno.fetch(str(second.audio_url))


@pytest.mark.parametrize("kind", ["symbolic link", "dangling symbolic link", "hard link", "folder"])
async def test_a_part_that_is_not_a_lone_file_is_never_followed_nor_removed(
    suno: StandinControl, downloader: Downloader, out: Path, tmp_path: Path, kind: str
) -> None:
    (clip,) = clips(suno, {"title": "Title"})
    plant_other(out / "Title.mp3.part", kind, tmp_path / "precious.txt")
    result = await downloader.download(clip, out)
    assert result.file_name == "Title (2).mp3"
    assert files_in(out) == ["Title (2).mp3", "Title.mp3.part"]
    assert files_in(tmp_path) == ["music", "precious.txt"], "nothing made where a link points"
    assert text_of(tmp_path / "precious.txt") == "precious"


async def test_a_stale_part_beside_its_finished_song_leaves_the_song_alone(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    """A finished .mp3 is never overwritten, whatever .part lies beside it; the stale .part of the name taken is."""
    (clip,) = clips(suno, {"title": "Title"})
    plant(out, {"Title.mp3": b"the song, finished", "Title.mp3.part": b"stale", "Title (2).mp3.part": b"stale too"})
    result = await downloader.download(clip, out)
    assert result.file_name == "Title (2).mp3"
    assert text_of(out / "Title.mp3") == "the song, finished"
    assert files_in(out) == ["Title (2).mp3", "Title.mp3", "Title.mp3.part"]


# -- a finished song found where it goes: a run killed between its rename and its record ------------


def allowed() -> Unlocking:
    """Leave to spend Suno's allowance, with plenty of it left."""
    usage = DownloadUsage(current_period_downloads_limit=1_000)
    return Unlocking(gate=AllowanceGate(usage, authorize=True, needed=1_000))


def made(**options: Any) -> dict[str, Any]:
    """``with_thumbnail`` and ``append_uuid`` as the downloader takes them (:class:`DownloadOptions`), other
    arguments as they are."""
    fields = {name: options.pop(name) for name in ("with_thumbnail", "append_uuid") if name in options}
    return {"options": DownloadOptions(**fields), "unlocking": allowed(), **options}


async def finished_earlier(downloader: Downloader, clip: Clip, directory: Path, **options: Any) -> Path:
    """The clip's file as a backend killed before ``on_complete`` leaves it: whole, renamed, recorded nowhere."""
    result = await downloader.download(clip, directory, **made(**options))
    return Path(str(result.path))


async def batch_of(
    downloader: Downloader, batch: list[Clip], out: Path, **options: Any
) -> tuple[list[DownloadResult], list[tuple[str, str]], list[ClipOutcome]]:
    """The batch's results, what ``on_complete`` got (clip id, file name) and its ``on_progress`` events."""
    completed: list[tuple[str, str]] = []
    events: list[ClipOutcome] = []
    results = await downloader.download_batch(
        batch,
        out,
        on_progress=events.append,
        on_complete=lambda clip, path: completed.append((clip.id, path.name)),
        **made(**options),
    )
    return results, completed, events


@pytest.mark.parametrize("route", ["cdn", "authorized"])
async def test_a_finished_file_of_the_clip_is_adopted_recorded_and_never_fetched_again(
    suno: StandinControl, downloader: Downloader, out: Path, route: str
) -> None:
    (clip,) = clips(suno, {"title": "Title", **({"audio_url": suno.forbidden_url} if route == "authorized" else {})})
    path = await finished_earlier(downloader, clip, out)
    before, asked = path.read_bytes(), len(suno.requests())

    results, completed, events = await batch_of(downloader, [clip], out)

    assert results == [
        DownloadResult(
            clip_id=clip.id,
            status="downloaded",
            file_name="Title.mp3",
            path=str(path),
            bytes=len(before),
            cover=True,
            adopted=True,
        )
    ]
    assert completed == [(clip.id, "Title.mp3")], "handed to on_complete: the history records it"
    assert files_in(out) == ["Title.mp3"], "no Title (2).mp3"
    assert path.read_bytes() == before, "the file is left as it was"
    assert len(suno.requests()) == asked, "no request at all: no audio, no cover, no authorization"
    assert [(e.status, e.result and e.result.adopted, e.result and e.result.path) for e in events] == [
        ("downloaded", True, str(path))
    ]
    assert (events[0].completed, events[0].progress) == (1, 100)


async def test_adopted_files_keep_their_names_append_uuid_and_clashes_included(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    """Each clip is found under the name it got: `` (2)`` after another clip's file, `` [id]`` with append_uuid."""
    first, second, plain = clips(suno, {"title": "Twin"}, {"title": "Twin"}, {"title": "Plain"})
    await finished_earlier(downloader, first, out)
    await finished_earlier(downloader, second, out)
    await finished_earlier(downloader, first, out, append_uuid=True)
    await finished_earlier(downloader, plain, out, with_thumbnail=False)
    names = ["Plain.mp3", "Twin (2).mp3", "Twin.mp3", f"Twin [{first.id[:8]}].mp3"]
    assert files_in(out) == sorted(names)
    asked = len(suno.requests())

    results, completed, _ = await batch_of(downloader, [second, plain, first], out, parallel=3)
    assert [(r.file_name, r.adopted, r.cover) for r in results] == [
        ("Twin (2).mp3", True, True),
        ("Plain.mp3", True, False),
        ("Twin.mp3", True, True),
    ]
    assert sorted(completed) == sorted([(second.id, "Twin (2).mp3"), (plain.id, "Plain.mp3"), (first.id, "Twin.mp3")])

    (with_id,) = (await batch_of(downloader, [first], out, append_uuid=True))[0]
    assert (with_id.file_name, with_id.adopted) == (f"Twin [{first.id[:8]}].mp3", True)
    assert len(suno.requests()) == asked
    assert files_in(out) == sorted(names)


async def test_a_file_of_another_clip_with_the_same_title_is_not_adopted(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    mine, theirs = clips(suno, {"title": "Title"}, {"title": "Title"})
    taken = await finished_earlier(downloader, theirs, out)
    before = taken.read_bytes()

    results, completed, _ = await batch_of(downloader, [mine], out)

    assert [(r.status, r.file_name, r.adopted) for r in results] == [("downloaded", "Title (2).mp3", False)]
    assert completed == [(mine.id, "Title (2).mp3")]
    assert audio_of(out / "Title (2).mp3") == suno.fetch(str(mine.audio_url))
    assert ID3(out / "Title (2).mp3").getall("WOAR")[0].url == f"{suno.base_url}/song/{mine.id}"
    assert taken.read_bytes() == before
    assert len(suno.requests(f"/cdn/{mine.id}.mp3")) == 1


def damage(path: Path, how: str, suno: StandinControl, clip: Clip) -> None:
    """Make the finished file at ``path`` one that does not prove itself whole and this clip's."""
    if how == "cut short":
        path.write_bytes(path.read_bytes()[:-100])
    elif how == "no tag":
        path.write_bytes(path.read_bytes()[ID3(path).size :])
    elif how == "no WOAR":
        tags = ID3(path)
        tags.delall("WOAR")
        tags.save(path, v2_version=3)
    elif how == "a longer id in WOAR":
        tags = ID3(path)
        tags.delall("WOAR")
        tags.add(WOAR(url=f"{suno.base_url}/song/{clip.id}0"))
        tags.save(path, v2_version=3)
    elif how == "a second WOAR":
        tags = ID3(path)
        tags.add(WOAR(url=f"{suno.base_url}/song/another"))
        tags.save(path, v2_version=3)
    else:
        path.write_bytes(b"ID3 and not much else")


@pytest.mark.parametrize("how", ["cut short", "no tag", "no WOAR", "a longer id in WOAR", "a second WOAR", "junk"])
async def test_a_file_that_does_not_prove_itself_whole_and_of_this_clip_is_not_adopted(
    suno: StandinControl, downloader: Downloader, out: Path, how: str
) -> None:
    (clip,) = clips(suno, {"title": "Title"})
    path = await finished_earlier(downloader, clip, out)
    damage(path, how, suno, clip)
    before = path.read_bytes()

    results, completed, _ = await batch_of(downloader, [clip], out)

    assert [(r.file_name, r.adopted) for r in results] == [("Title (2).mp3", False)]
    assert completed == [(clip.id, "Title (2).mp3")]
    assert path.read_bytes() == before, "never touched"
    assert len(suno.requests(f"/cdn/{clip.id}.mp3")) == 2


@pytest.mark.parametrize("kind", ["symbolic link", "folder", "fifo"])
async def test_a_link_or_anything_but_a_regular_file_is_never_adopted_nor_followed(
    suno: StandinControl, downloader: Downloader, out: Path, tmp_path: Path, kind: str
) -> None:
    """A link to a real finished file of this very clip is still a name taken, never read through."""
    (clip,) = clips(suno, {"title": "Title"})
    elsewhere = await finished_earlier(downloader, clip, tmp_path / "elsewhere")
    before = elsewhere.read_bytes()
    plant(out, {})
    if kind == "symbolic link":
        (out / "Title.mp3").symlink_to(elsewhere)
    elif kind == "folder":
        (out / "Title.mp3").mkdir()
    else:
        os.mkfifo(out / "Title.mp3")

    results, completed, _ = await asyncio.wait_for(batch_of(downloader, [clip], out), 30)

    assert [(r.file_name, r.adopted) for r in results] == [("Title (2).mp3", False)]
    assert completed == [(clip.id, "Title (2).mp3")]
    assert files_in(out) == ["Title (2).mp3", "Title.mp3"]
    assert (out / "Title.mp3").is_symlink() == (kind == "symbolic link")
    assert files_in(tmp_path / "elsewhere") == ["Title.mp3"]
    assert elsewhere.read_bytes() == before
    assert len(suno.requests(f"/cdn/{clip.id}.mp3")) == 2


async def test_the_search_steps_over_parts_and_stops_at_the_first_free_name(
    suno: StandinControl, downloader: Downloader, out: Path, tmp_path: Path
) -> None:
    """Found behind the .part a killed download left; not behind a name nothing holds (where it would go now)."""
    behind_part, behind_gap, other = clips(suno, {"title": "A"}, {"title": "B"}, {"title": "B"})
    plant(out, {})
    killed_writer(out / "A.mp3.part")
    shutil.copyfile(await finished_earlier(downloader, behind_part, tmp_path / "a"), out / "A (2).mp3")
    await finished_earlier(downloader, other, out)  # B.mp3, another clip's
    shutil.copyfile(await finished_earlier(downloader, behind_gap, tmp_path / "b"), out / "B (3).mp3")

    results, _, _ = await batch_of(downloader, [behind_part, behind_gap], out)

    assert [(r.file_name, r.adopted) for r in results] == [("A (2).mp3", True), ("B (2).mp3", False)]
    assert len(suno.requests(f"/cdn/{behind_part.id}.mp3")) == 1
    assert len(suno.requests(f"/cdn/{behind_gap.id}.mp3")) == 2


async def test_the_cdn_403_then_200_quirk_is_retried_once(
    suno: StandinControl, downloader: Downloader, out: Path, sleep: FastSleep
) -> None:
    (clip,) = clips(suno, {"title": "quirk"})
    suno.faults({"path": f"/cdn/{clip.id}.mp3", "status": 403, "times": 1})
    assert (await downloader.download(clip, out)).status == "downloaded"
    assert len(suno.requests(f"/cdn/{clip.id}.mp3")) == 2
    assert sleep.delays == [2]

    suno.faults({"path": f"/cdn/{clip.id}.mp3", "status": 403, "times": None})
    with pytest.raises(CommandError) as caught:
        await downloader.download(clip, out)
    assert caught.value.code is StudioError.DOWNLOAD_FAILED
    assert "403" in caught.value.message
    assert len(suno.requests(f"/cdn/{clip.id}.mp3")) == 2 + 2, "a second 403 is an answer, not a quirk"


async def test_429_and_5xx_on_the_cdn_back_off_then_succeed(
    suno: StandinControl, downloader: Downloader, out: Path, sleep: FastSleep
) -> None:
    (clip,) = clips(suno, {"title": "busy"})
    suno.faults(
        {"path": f"/cdn/{clip.id}.mp3", "status": 429, "times": 1, "headers": {"Retry-After": "5"}},
        {"path": f"/cdn/{clip.id}.mp3", "status": 503, "skip": 1, "times": 1},
    )
    assert (await downloader.download(clip, out)).status == "downloaded"
    assert sleep.delays == [5, 4]


async def test_a_cut_connection_resumes_with_range_where_it_stopped(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(suno, {"title": "resumed"})
    suno.faults({"path": f"/cdn/{clip.id}.mp3", "kind": "cut", "after_bytes": 20_000, "times": 1})
    events: list[FileProgress] = []
    await downloader.download(clip, out, on_progress=events.append)
    gets = suno.requests(f"/cdn/{clip.id}.mp3")
    assert [get["range"] for get in gets] == [None, "bytes=20000-"]
    assert audio_of(out / "resumed.mp3") == suno.fetch(str(clip.audio_url))
    assert events[-1].progress == 100


async def test_a_connection_that_keeps_dropping_fails_and_leaves_nothing(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(suno, {"title": "flaky"})
    suno.faults({"path": f"/cdn/{clip.id}.mp3", "kind": "cut", "after_bytes": 1_000, "times": None})
    with pytest.raises(CommandError) as caught:
        await downloader.download(clip, out)
    assert caught.value.code is StudioError.DOWNLOAD_FAILED
    assert "gave up after 4 tries" in caught.value.message
    assert files_in(out) == []


async def test_a_truncated_file_is_refused_and_never_reaches_the_history(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    truncated, whole = clips(suno, {"title": "truncated"}, {"title": "whole"})
    suno.faults({"path": f"/cdn/{truncated.id}.mp3", "kind": "short", "after_bytes": 10_000, "times": None})
    completed: list[tuple[str, Path]] = []
    results = await downloader.download_batch(
        [truncated, whole], out, on_complete=lambda clip, path: completed.append((clip.id, path))
    )
    assert [r.status for r in results] == ["failed", "downloaded"]
    assert "not a whole MP3" in str(results[0].message)
    assert completed == [(whole.id, out / "whole.mp3")]
    assert files_in(out) == ["whole.mp3"]


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ({"status": 200, "content_type": "text/html", "body": "<html>Sign in</html>"}, "text/html"),
        ({"status": 200, "content_type": "application/json", "body": '{"detail": "x"}'}, "application/json"),
        ({"status": 200, "content_type": "audio/mpeg", "body": '{"detail": "Rate limited"}'}, "a JSON document"),
        ({"status": 200, "content_type": "application/octet-stream", "body": "<!doctype html>"}, "an HTML"),
    ],
)
async def test_a_200_that_is_not_audio_is_refused(
    suno: StandinControl, downloader: Downloader, out: Path, fault: dict[str, Any], said: str
) -> None:
    (clip,) = clips(suno, {"title": "impostor"})
    suno.faults({"path": f"/cdn/{clip.id}.mp3", "times": None, **fault})
    with pytest.raises(CommandError) as caught:
        await downloader.download(clip, out)
    assert caught.value.code is StudioError.DOWNLOAD_FAILED
    assert said in caught.value.message
    assert files_in(out) == []


async def test_a_cover_that_cannot_be_fetched_does_not_fail_the_song(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(suno, {"title": "coverless"})
    suno.faults({"path": "/cdn/image_*", "status": 404, "times": None})
    result = await downloader.download(clip, out)
    assert result.status == "downloaded"
    assert not result.cover
    assert "404" in str(result.message)
    assert ID3(out / "coverless.mp3").getall("APIC") == []


async def test_a_forbidden_audio_url_goes_through_authorize_and_the_download_route(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(suno, {"title": "new style", "audio_url": suno.forbidden_url})
    result = await downloader.download(clip, out, unlocking=allowed())
    assert result.status == "downloaded"
    assert [r["path"] for r in suno.requests() if not r["path"].startswith("/cdn/image")] == [
        "/api/download/authorize",
        f"/api/download/clip/{clip.id}",
        f"/cdn/authorized/{clip.id}.mp3",
    ]
    assert all(not r["bearer"] for r in suno.requests("/cdn/*")), "the token is never sent to the CDN"


async def test_a_clip_already_downloaded_is_never_authorized_again(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    authorized, never = clips(
        suno, {"title": "again", "audio_url": suno.forbidden_url}, {"title": "never", "audio_url": suno.forbidden_url}
    )
    await downloader.download(authorized, out, unlocking=allowed())
    known = {authorized.id}.__contains__
    again = await downloader.download(authorized, out, unlocking=Unlocking(gate=allowed().gate, known=known))
    assert again.file_name == "again (2).mp3"
    assert not again.authorized
    with pytest.raises(CommandError) as caught:
        await downloader.download(never, out)
    assert caught.value.code is StudioError.DOWNLOAD_FAILED
    assert caught.value.details["reason"] == "authorization_required"
    assert len(suno.requests("/api/download/authorize")) == 1, "only the first download authorized"


async def test_an_unlocked_clip_needs_no_authorization(suno: StandinControl, downloader: Downloader, out: Path) -> None:
    (clip,) = clips(suno, {"title": "unlocked", "audio_url": suno.forbidden_url, "is_download_unlocked": True})
    await downloader.download(clip, out)
    assert suno.requests("/api/download/authorize") == []


async def test_an_exhausted_allowance_fails_with_suno_s_message(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(suno, {"title": "over quota", "audio_url": suno.forbidden_url})
    suno.downloads(limit=0)
    with pytest.raises(CommandError) as caught:
        await downloader.download(clip, out, unlocking=allowed())
    assert caught.value.code is StudioError.DOWNLOAD_FAILED
    assert "You have used all of your downloads for this period." in caught.value.message
    assert caught.value.details["reason"] == "allowance_exhausted"
    assert files_in(out) == []


async def test_a_batch_skips_known_clips_reports_failures_and_goes_on(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    batch = clips(
        suno,
        {"title": "one"},
        {"title": "known", "audio_url": suno.forbidden_url},
        {"title": "broken"},
        {"title": "two", "audio_url": suno.forbidden_url},
        {"title": "three"},
    )
    known, broken = batch[1], batch[2]
    suno.faults({"path": f"/cdn/{broken.id}.mp3", "status": 500, "times": None})
    events: list[ClipOutcome] = []
    completed: list[str] = []
    results = await downloader.download_batch(
        [*batch, batch[0]],
        out,
        parallel=2,
        already_downloaded={known.id}.__contains__,
        unlocking=allowed(),
        on_progress=events.append,
        on_complete=lambda clip, path: completed.append(path.name) if path.is_file() else None,
    )
    assert [r.status for r in results] == ["downloaded", "skipped", "failed", "downloaded", "downloaded", "skipped"]
    assert sorted(completed) == ["one.mp3", "three.mp3", "two.mp3"]
    assert files_in(out) == ["one.mp3", "three.mp3", "two.mp3"]
    assert not suno.requests(f"*{known.id}*"), "a known clip costs no request at all"
    assert len(suno.requests("/api/download/authorize")) == 1

    final = {e.index: e.result for e in events if e.result is not None}
    assert sorted(final) == [1, 2, 3, 4, 5, 6]
    assert final[3].status == "failed"
    assert "HTTP 500" in str(final[3].message)
    assert final[1].path == str(out / "one.mp3")
    assert all(e.total == 6 for e in events)
    assert events[-1].completed == 6
    assert events[-1].progress == 100
    started = [e.index for e in events if e.status == "downloading"]
    assert sorted(started) == [1, 3, 4, 5]


async def test_a_full_disk_fails_only_the_clips_that_do_not_fit(
    suno: StandinControl, downloader: Downloader, tmp_path: Path
) -> None:
    suno.settings(audio_bytes=400_000)
    batch = clips(suno, *({"title": f"big {n}"} for n in range(1, 5)))
    completed: list[str] = []
    with tmpfs(tmp_path / "small", "1m") as disk:  # room for two of them
        results = await downloader.download_batch(
            batch, disk, parallel=1, on_complete=lambda clip, path: completed.append(path.name)
        )
        assert files_in(disk) == ["big 1.mp3", "big 2.mp3"], "no .part left"
    assert [r.status for r in results] == ["downloaded", "downloaded", "failed", "failed"]
    assert [r.message for r in results[2:]] == [
        "no space left on the disk for big 3.mp3",
        "no space left on the disk for big 4.mp3",
    ]
    assert completed == ["big 1.mp3", "big 2.mp3"]


async def test_a_disk_with_no_room_even_for_the_tag_fails_the_clip_and_leaves_nothing(
    suno: StandinControl, downloader: Downloader, tmp_path: Path
) -> None:
    (clip,) = clips(suno, {"title": "tagless"})
    with tmpfs(tmp_path / "small", "1m") as disk:
        with contextlib.suppress(OSError), (disk / "filler").open("wb") as filler:
            filler.write(bytes(2 * 1024 * 1024))
        with pytest.raises(CommandError) as caught:  # mutagen, writing the tag first, meets the full disk
            await downloader.download(clip, disk)
        assert files_in(disk) == ["filler"]
    assert caught.value.code is StudioError.DOWNLOAD_FAILED
    assert caught.value.message == "no space left on the disk for tagless.mp3"


async def test_no_more_than_parallel_downloads_run_at_once(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    batch = clips(suno, *({"title": f"song {n}"} for n in range(5)))
    suno.faults({"path": "/cdn/*.mp3", "kind": "delay", "seconds": 0.1, "times": None})
    running, most = 0, 0

    def track(event: ClipOutcome) -> None:
        nonlocal running, most
        running += 1 if event.status == "downloading" else -1
        most = max(most, running)

    await downloader.download_batch(batch, out, parallel=2, on_progress=track)
    assert most == 2
    assert len(files_in(out)) == 5


async def test_starts_are_spaced_by_delay(suno: StandinControl, http: httpx.AsyncClient, out: Path) -> None:
    batch = clips(suno, *({"title": f"paced {n}"} for n in range(3)))
    real_time = Downloader(http, client_for(suno, http, FastSleep()))
    await real_time.download_batch(batch, out, delay=0.25, parallel=4, **made(with_thumbnail=False))
    starts = [r["time"] for r in suno.requests("/cdn/*.mp3")]
    assert len(starts) == 3
    assert all(later - earlier >= 0.24 for earlier, later in itertools.pairwise(starts))


async def test_cancelling_between_chunks_leaves_no_part_file(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    suno.settings(audio_bytes=2_000_000)
    batch = clips(suno, {"title": "long 1"}, {"title": "long 2"})
    chunks = 0

    def check() -> None:
        nonlocal chunks
        chunks += 1
        if chunks > 5:
            raise OperationCancelled("op")

    completed: list[Path] = []
    with pytest.raises(OperationCancelled):
        await downloader.download_batch(batch, out, check=check, on_complete=lambda clip, path: completed.append(path))
    assert completed == []
    assert files_in(out) == []


async def test_cancelling_the_task_leaves_no_part_file(suno: StandinControl, downloader: Downloader, out: Path) -> None:
    (clip,) = clips(suno, {"title": "slow"})
    suno.faults({"path": "/cdn/*.mp3", "kind": "delay", "seconds": 5})
    task = asyncio.create_task(downloader.download(clip, out))
    await asyncio.sleep(0.5)
    assert suno.requests("/cdn/*.mp3"), "the download is under way, waiting for the server"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert files_in(out) == []


async def test_a_dead_session_stops_the_batch(suno: StandinControl, downloader: Downloader, out: Path) -> None:
    batch = clips(suno, *({"title": f"locked {n}", "audio_url": suno.forbidden_url} for n in range(3)))
    suno.revoke()
    with pytest.raises(CommandError) as caught:
        await downloader.download_batch(batch, out, parallel=1, unlocking=allowed())
    assert caught.value.code is StudioError.SESSION_NOT_FOUND
    assert files_in(out) == []


async def test_bad_input_is_refused_clearly(
    suno: StandinControl, downloader: Downloader, out: Path, tmp_path: Path
) -> None:
    with pytest.raises(msgspec.ValidationError, match="missing required field `id`"):
        msgspec.convert({"title": "no id"}, Clip)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.id"):
        msgspec.convert({"id": "../../x"}, Clip)

    (clip,) = clips(suno, {"title": "fine"})
    with pytest.raises(CommandError) as caught:
        await downloader.download(clip, "relative/dir")
    assert caught.value.code is ErrorCode.INVALID_PAYLOAD
    assert caught.value.details == {"fields": ["$.output_dir"]}
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(CommandError) as caught:
        await downloader.download_batch([clip], blocker / "sub")
    assert caught.value.code is ErrorCode.INVALID_PAYLOAD
    assert caught.value.details == {"fields": ["$.output_dir"]}
    assert str(blocker / "sub") in caught.value.message
    with pytest.raises(CommandError) as caught:
        await downloader.download_batch([clip], out, parallel=0)
    assert caught.value.details == {"fields": ["$.parallel"]}

    (unfinished,) = clips(suno, {"title": "soon", "status": "streaming"})
    with pytest.raises(CommandError) as caught:
        await downloader.download(unfinished, out)
    assert caught.value.code is StudioError.DOWNLOAD_FAILED
    assert "streaming" in caught.value.message


@pytest.mark.parametrize("audio_url", ["file:///etc/passwd", "ftp://example.com/a.mp3", "http://", "::not a url::"])
async def test_only_web_addresses_are_fetched(
    suno: StandinControl, downloader: Downloader, out: Path, audio_url: str
) -> None:
    (clip,) = clips(suno, {"title": "odd", "audio_url": audio_url, "image_large_url": "javascript:alert(1)"})
    with pytest.raises(CommandError) as caught:
        await downloader.download(clip, out)
    assert caught.value.code is StudioError.DOWNLOAD_FAILED
    assert "not a web address" in caught.value.message
    assert files_in(out) == []


async def test_an_odd_cover_address_only_costs_the_cover(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(suno, {"title": "odd cover", "image_large_url": "file:///etc/passwd"})
    result = await downloader.download(clip, out)
    assert result.status == "downloaded"
    assert not result.cover
    assert "not a web address" in str(result.message)


async def test_a_redirect_is_followed_with_its_range(suno: StandinControl, downloader: Downloader, out: Path) -> None:
    (clip,) = clips(suno, {"title": "moved", "audio_url": f"{suno.base_url}/cdn/old/song.mp3"})
    real = f"{suno.base_url}/cdn/{clip.id}.mp3"
    suno.faults(
        {"path": "/cdn/old/song.mp3", "status": 302, "headers": {"Location": real}, "times": None},
        {"path": f"/cdn/{clip.id}.mp3", "kind": "cut", "after_bytes": 20_000, "times": 1},
    )
    await downloader.download(clip, out)
    assert [(r["path"], r["range"]) for r in suno.requests("/cdn/*.mp3")] == [
        ("/cdn/old/song.mp3", None),
        (f"/cdn/{clip.id}.mp3", None),
        ("/cdn/old/song.mp3", "bytes=20000-"),
        (f"/cdn/{clip.id}.mp3", "bytes=20000-"),
    ]
    assert audio_of(out / "moved.mp3") == suno.fetch(real)


async def test_a_cover_that_comes_after_the_audio_still_goes_before_it(
    suno: StandinControl, downloader: Downloader, out: Path
) -> None:
    (clip,) = clips(suno, {"title": "late cover"})
    suno.faults({"path": "/cdn/image_*", "kind": "delay", "seconds": 0.3})
    result = await downloader.download(clip, out)
    assert result.cover
    path = out / "late cover.mp3"
    assert ID3(path).getall("APIC")[0].data == suno.fetch(str(clip.image_large_url))
    assert audio_of(path) == suno.fetch(str(clip.audio_url))


@pytest.fixture
async def tagged_cdn() -> AsyncIterator[tuple[str, bytes]]:
    """A server whose MP3 starts with an ID3 tag of its own, as ffmpeg writes them; its URL and audio."""
    tags = ID3()
    tags.add(TIT2(encoding=3, text="the server's title"))
    tags.add(TSSE(encoding=3, text="Lavf60.16.100"))
    tag = io.BytesIO()
    tags.save(tag, v2_version=4)
    audio = silent_mp3(48_000)
    body = tag.getvalue() + audio

    async def song(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="audio/mpeg")

    app = web.Application()
    app.router.add_get("/tagged.mp3", song)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/tagged.mp3")), audio
    await server.close()


async def test_a_tag_the_server_put_in_the_file_is_merged_with_ours(
    suno: StandinControl, downloader: Downloader, out: Path, tagged_cdn: tuple[str, bytes]
) -> None:
    url, audio = tagged_cdn
    (clip,) = clips(suno, {"title": "Ours", "audio_url": url})
    await downloader.download(clip, out)
    path = out / "Ours.mp3"
    tags = ID3(path)
    assert tags.version == (2, 3, 0)
    assert str(tags["TIT2"]) == "Ours"
    assert str(tags["TSSE"]) == "Lavf60.16.100", "frames we do not write are kept"
    assert len(tags.getall("APIC")) == 1
    assert audio_of(path) == audio, "one tag, then the audio"


async def test_progress_comes_at_most_every_interval_and_always_at_the_end(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep, out: Path
) -> None:
    suno.settings(audio_bytes=2_000_000)
    (clip,) = clips(suno, {"title": "metered"})
    size = len(suno.fetch(str(clip.audio_url)))

    frozen: list[FileProgress] = []
    await Downloader(http, client_for(suno, http, sleep), clock=lambda: 0.0).download(
        clip, out, on_progress=frozen.append
    )
    assert [(e.downloaded, e.total, e.progress) for e in frozen] == [(size, size, 100)]

    ticks = itertools.count(step=PROGRESS_INTERVAL)
    ticking: list[FileProgress] = []
    await Downloader(http, client_for(suno, http, sleep), clock=lambda: float(next(ticks))).download(
        clip, out, on_progress=ticking.append
    )
    assert len(ticking) > 2, "one per chunk when every chunk comes an interval later"
    assert (ticking[-1].downloaded, ticking[-1].progress) == (size, 100)


# -- the frame check: framechain must say what audiocheck says ------------------------

_MPEG1, _MPEG2 = 0xFB, 0xF3
"""Second header bytes: sync, version, Layer III, no CRC."""


@st.composite
def mp3_files(draw: st.DrawFn) -> bytes:
    """Frames of one or several bitrates, sometimes junk or a tag around them, sometimes cut anywhere."""
    version = draw(st.sampled_from([_MPEG1, _MPEG2]))
    rate = draw(st.integers(0, 2)) << 2
    bitrates = draw(st.lists(st.integers(1, 14), min_size=1, max_size=3))
    data = bytearray(draw(st.sampled_from([b"", b"ID3\x03\x00\x00\x00\x00\x00\x05hello", b"\x00" * 7])))
    for _ in range(draw(st.integers(0, 60))):
        header = bytes([0xFF, version, draw(st.sampled_from(bitrates)) << 4 | rate | draw(st.sampled_from([0, 2]))])
        length = audiocheck._frame_length(header + b"\xc0", 0)
        assert length is not None
        data += header + b"\xc0" + bytes(length - 4)
    data += draw(st.sampled_from([b"", b"TAG" + bytes(125), b"\xff", b"\xff\xfb", b"junk"]))
    return bytes(data[: len(data) - draw(st.integers(0, 900))])


def chain_problem(data: bytes, cuts: list[int]) -> str | None:
    """What :class:`FrameChain` says of ``data`` fed in pieces cut at ``cuts``."""
    chain = framechain.FrameChain()
    for start, end in itertools.pairwise([0, *sorted(cuts), len(data)]):
        chain.feed(data[start:end])
    return chain.problem()


@given(mp3_files(), st.lists(st.integers(0, 100_000), max_size=12))
def test_framechain_agrees_with_audiocheck(data: bytes, cuts: list[int]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "song.mp3"
        path.write_bytes(data)
        assert chain_problem(data, [cut % (len(data) + 1) for cut in cuts]) == audiocheck.truncation(path)


@pytest.mark.parametrize("junk", [0, 9, audiocheck._SEARCH - 1, audiocheck._SEARCH])
@pytest.mark.parametrize("piece", [1, 3, 4096, 1 << 20])
def test_framechain_looks_for_the_first_frame_as_far_as_audiocheck(tmp_path: Path, junk: int, piece: int) -> None:
    path = tmp_path / "song.mp3"
    data = bytes(junk) + silent_mp3(200_000)
    path.write_bytes(data)
    assert chain_problem(data, list(range(piece, len(data), piece))) == audiocheck.truncation(path)


def test_framechain_on_nothing() -> None:
    assert framechain.FrameChain().problem() == "no MPEG audio frame found"
