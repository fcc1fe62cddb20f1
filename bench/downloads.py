"""Benchmark of the batch downloader against curl, on the same files from the same stand-in Suno: MP3, then WAV.

A stand-in Suno (``python -m deskbridge_standins.suno``) runs in a child process
with ``--clips`` clips of ``--size`` bytes of MP3 and a cover (100 kB) each. Every
subject fetches every clip's MP3 and large cover into a fresh temporary directory,
``--parallel`` at a time; the subjects take turns, in a rotating order, within each
repetition. Then the same again for WAV, from a stand-in of ``--wav-clips`` clips
whose WAVs are ``--wav-size`` bytes, unlocked beforehand: (a) asks Suno's
``download/clip?format=wav`` for each file (the product's route, timed), checks the
RIFF container and appends its ID3 chunk; the others fetch the signed URLs resolved
before the clock starts. The subjects:

(a) ``deskbridge``: ``Downloader.download_batch`` (``with_thumbnail=True``, ``delay=0``)
    in this process on uvloop, as the backend runs it: ``.part`` files, content checks,
    whole-frame MP3 check, ID3 v2.3 tags with the cover, rename;
(b) ``curl``: one ``curl --parallel --parallel-max N`` process given every URL (MP3s
    and covers) in a config file, writing each to its own file: the target's yardstick;
(c) ``aiohttp``: the bare loop under (a): ``ClientSession.get`` + ``iter_chunks`` into
    a file, on the session (a) uses (``http_fetch.session_like``), no checks, no tags
    (reference: what the HTTP client alone costs);
(d) ``httpx``: the same loop on ``AsyncClient.stream`` + ``aiter_raw`` (reference: the
    client of Suno's API, which (a) used for files too until it was measured here);
(e) ``asyncio``: a bare HTTP/1.1 GET on ``asyncio.open_connection`` with keep-alive,
    reading the Content-Length body in 1 MiB reads (reference: Python without an HTTP
    client library; it only speaks what the stand-in speaks).

Throughput is MP3 megabytes (10^6 bytes) per second of wall time; covers are fetched
by every subject but not counted, so all are measured on the same figure. CPU is what
the subject's process (this one, or curl) spent per song, user and system time, and in
brackets what the stand-in spent serving it: on a shared machine CPU moves less than wall
time, and it says where the time goes.

    .venv/bin/python bench/downloads.py [--quick] [--clips 200] [--size 1000000] [--parallel 4]
                                        [--repeat 3] [--json FILE] [--strict]

Target: (a) at least 70% of (b)'s throughput, for MP3 and for WAV.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil
import uvloop

from deskbridge.studio.downloads.allowance import AllowanceGate
from deskbridge.studio.downloads.downloader import Downloader, DownloadOptions, Unlocking
from deskbridge.studio.downloads.http_fetch import session_like
from deskbridge.studio.suno.api import SunoClient
from deskbridge.studio.suno.models import Clip
from deskbridge_standins.suno import StandinControl

TARGET = 0.70
SUBJECTS = ("deskbridge", "curl", "aiohttp", "httpx", "asyncio")
LABELS = {
    "deskbridge": "(a) deskbridge batch downloader",
    "curl": "(b) curl --parallel",
    "aiohttp": "(c) bare aiohttp loop (reference)",
    "httpx": "(d) bare httpx loop (reference)",
    "asyncio": "(e) bare asyncio GET (reference)",
}
COVER_BYTES = 50_000
"""The stand-in's small cover; the large one (what both subjects fetch) is twice that."""


@contextmanager
def standin(clips: int, size: int) -> Iterator[tuple[StandinControl, psutil.Process]]:
    """A stand-in Suno in a child process, so that serving does not share this process's GIL."""
    command = [
        sys.executable, "-m", "deskbridge_standins.suno", "--port", "0", "--clips", str(clips),
        "--audio-bytes", str(size), "--image-bytes", str(COVER_BYTES), "--log-level", "critical",
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            control = StandinControl(json.loads(process.stdout.readline())["base_url"])
            yield control, psutil.Process(process.pid)
            control.close()
        finally:
            process.terminate()


async def library(control: StandinControl) -> list[Clip]:
    async with httpx.AsyncClient() as http:
        return await SunoClient(http, control.endpoints, control.session()["jwt"]).library()


Files = list[tuple[str, str]]
"""Each clip's audio URL and large cover URL."""


def unlocked_wavs(control: StandinControl, clips: list[Clip], size: int) -> tuple[list[Clip], Files]:
    """Every clip unlocked and its WAV prepared (untimed): the clips as Suno now shows them, and the WAVs' URLs."""
    control.downloads(sizes={"wav": size})
    auth = {"Authorization": f"Bearer {control.session()['jwt']}"}
    files = []
    with httpx.Client(base_url=control.base_url, headers=auth, timeout=60) as api:
        for clip in clips:
            api.post("/api/download/authorize", json={"item_id": clip.id, "item_type": "clip"}).raise_for_status()
            poll = api.get(f"/api/download/clip/{clip.id}", params={"format": "wav"}).json()
            files.append((poll["download_url"], str(clip.image_large_url)))
    return [msgspec.structs.replace(clip, is_download_unlocked=True) for clip in clips], files


def run_curl(files: Files, parallel: int, directory: Path) -> float:
    config = directory / "urls.txt"
    lines = []
    for n, (audio, cover) in enumerate(files):
        lines += [f'url = "{audio}"', f'output = "{directory}/{n}.audio"']
        lines += [f'url = "{cover}"', f'output = "{directory}/{n}.jpeg"']
    config.write_text("\n".join(lines) + "\n")
    command = [
        "curl",
        "--parallel",
        "--parallel-max",
        str(parallel),
        "--silent",
        "--show-error",
        "--no-progress-meter",
        "--fail",
        "-K",
    ]
    began = time.perf_counter()
    subprocess.run([*command, str(config)], check=True)
    elapsed = time.perf_counter() - began
    fetched = len(list(directory.glob("*.audio"))) + len(list(directory.glob("*.jpeg")))
    assert fetched == 2 * len(files), f"curl fetched {fetched} files, not {2 * len(files)}"
    return elapsed


def run_deskbridge(control: StandinControl, clips: list[Clip], fmt: str, parallel: int, directory: Path) -> float:
    options = DownloadOptions(format="wav" if fmt == "wav" else "mp3", with_thumbnail=True)
    nothing = Unlocking(gate=AllowanceGate(None, authorize=False, needed=0))  # every clip is unlocked already

    async def batch() -> float:
        async with httpx.AsyncClient(timeout=60) as http:
            downloader = Downloader(http, SunoClient(http, control.endpoints, control.session()["jwt"]))
            began = time.perf_counter()
            results = await downloader.download_batch(
                clips, directory, options=options, unlocking=nothing, parallel=parallel
            )
            elapsed = time.perf_counter() - began
        done = [result for result in results if result.status == "downloaded" and result.cover]
        assert len(done) == len(clips), f"only {len(done)} of {len(clips)} downloaded with a cover"
        return elapsed

    return uvloop.run(batch())


def urls_of(files: Files) -> list[str]:
    return [url for pair in files for url in pair]


def run_aiohttp(files: Files, parallel: int, directory: Path) -> float:
    async def fetch_all() -> float:
        slots = asyncio.Semaphore(parallel)
        async with httpx.AsyncClient(timeout=60) as api, session_like(api) as http:

            async def fetch(n: int, url: str) -> None:
                async with slots, http.get(url, headers={"Accept-Encoding": "identity"}) as response:
                    response.raise_for_status()
                    with (directory / str(n)).open("wb") as file:
                        async for chunk, _ in response.content.iter_chunks():
                            file.write(chunk)

            began = time.perf_counter()
            await asyncio.gather(*(fetch(n, url) for n, url in enumerate(urls_of(files))))
            return time.perf_counter() - began

    return uvloop.run(fetch_all())


def run_httpx(files: Files, parallel: int, directory: Path) -> float:
    async def fetch_all() -> float:
        slots = asyncio.Semaphore(parallel)
        async with httpx.AsyncClient(timeout=60) as http:

            async def fetch(n: int, url: str) -> None:
                async with slots, http.stream("GET", url) as response:
                    response.raise_for_status()
                    with (directory / str(n)).open("wb") as file:
                        async for chunk in response.aiter_raw():
                            file.write(chunk)

            began = time.perf_counter()
            await asyncio.gather(*(fetch(n, url) for n, url in enumerate(urls_of(files))))
            return time.perf_counter() - began

    return uvloop.run(fetch_all())


def run_asyncio(files: Files, parallel: int, directory: Path) -> float:
    async def fetch_all() -> float:
        idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        slots = asyncio.Semaphore(parallel)

        async def fetch(n: int, url: str) -> None:
            parsed = httpx.URL(url)
            async with slots:
                reader, writer = idle.pop() if idle else await asyncio.open_connection(parsed.host, parsed.port)
                target = parsed.raw_path.decode()
                writer.write(f"GET {target} HTTP/1.1\r\nHost: {parsed.netloc.decode()}\r\n\r\n".encode())
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                assert head.startswith("http/1.1 200"), head
                left = int(head.split("content-length:")[1].split("\r\n")[0])
                with (directory / str(n)).open("wb") as file:
                    while left:
                        chunk = await reader.read(min(left, 1 << 20))
                        file.write(chunk)
                        left -= len(chunk)
                idle.append((reader, writer))

        began = time.perf_counter()
        await asyncio.gather(*(fetch(n, url) for n, url in enumerate(urls_of(files))))
        elapsed = time.perf_counter() - began
        for _, writer in idle:
            writer.close()
        return elapsed

    return uvloop.run(fetch_all())


def cpu_seconds() -> float:
    """User and system time of this process and of its children that have ended (curl)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def measure(args: argparse.Namespace, fmt: str) -> dict[str, Any]:
    runs: dict[str, list[float]] = {name: [] for name in SUBJECTS}
    cpu: dict[str, list[float]] = {name: [] for name in SUBJECTS}
    served: dict[str, list[float]] = {name: [] for name in SUBJECTS}
    count = args.clips if fmt == "mp3" else args.wav_clips
    with standin(count, args.size) as (control, server):
        clips = asyncio.run(library(control))
        assert len(clips) == count
        if fmt == "wav":
            clips, files = unlocked_wavs(control, clips, args.wav_size)
        else:
            files = [(str(clip.audio_url), str(clip.image_large_url)) for clip in clips]
        audio_bytes = len(control.fetch(files[0][0])) * len(clips)
        subjects = {
            "deskbridge": lambda directory: run_deskbridge(control, clips, fmt, args.parallel, directory),
            "curl": lambda directory: run_curl(files, args.parallel, directory),
            "aiohttp": lambda directory: run_aiohttp(files, args.parallel, directory),
            "httpx": lambda directory: run_httpx(files, args.parallel, directory),
            "asyncio": lambda directory: run_asyncio(files, args.parallel, directory),
        }
        for repetition in range(args.repeat):
            turn = repetition % len(SUBJECTS)
            for name in SUBJECTS[turn:] + SUBJECTS[:turn]:
                with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as directory:
                    spent, serving = cpu_seconds(), sum(server.cpu_times()[:2])
                    seconds = subjects[name](Path(directory))
                    spent, serving = cpu_seconds() - spent, sum(server.cpu_times()[:2]) - serving
                runs[name].append(audio_bytes / 1e6 / seconds)
                cpu[name].append(spent * 1000 / count)
                served[name].append(serving * 1000 / count)
                print(
                    f"  {fmt} {name:<10} {runs[name][-1]:7.1f} MB/s {cpu[name][-1]:5.2f} ms CPU/song"
                    f" (stand-in {served[name][-1]:4.2f})",
                    file=sys.stderr,
                )
    median = {name: statistics.median(values) for name, values in runs.items()}
    return {
        "format": fmt,
        "clips": count,
        "size": audio_bytes // count,
        "parallel": args.parallel,
        "runs_mb_per_s": runs,
        "median_mb_per_s": median,
        "runs_cpu_ms_per_song": cpu,
        "median_cpu_ms_per_song": {name: statistics.median(values) for name, values in cpu.items()},
        "median_standin_cpu_ms_per_song": {name: statistics.median(values) for name, values in served.items()},
        "ratio": median["deskbridge"] / median["curl"],
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}, Python {platform.python_version()}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--size", type=int, default=1_000_000, help="MP3 bytes per clip")
    parser.add_argument("--wav-clips", type=int, default=40)
    parser.add_argument("--wav-size", type=int, default=10_000_000, help="WAV bytes per clip")
    parser.add_argument("--formats", default="mp3,wav", help="which to measure, in order: mp3, wav or both")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions, each running every subject once")
    parser.add_argument("--quick", action="store_true", help="50 MP3 clips, 10 WAVs, one repetition per subject")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if args.quick:
        args.clips, args.wav_clips, args.repeat = 50, 10, len(SUBJECTS)
    if shutil.which("curl") is None:
        print("curl is not installed", file=sys.stderr)
        return 2
    every: dict[str, Any] = {}
    missed = False
    for fmt in args.formats.split(","):
        figures = every[fmt] = measure(args, fmt)
        median, ratio = figures["median_mb_per_s"], figures["ratio"]
        cpu, served = figures["median_cpu_ms_per_song"], figures["median_standin_cpu_ms_per_song"]
        size, clips, parallel = figures["size"], figures["clips"], figures["parallel"]
        print(f"{fmt.upper()}: {clips} clips of {size:,} bytes + cover, {parallel} at once")
        for name in SUBJECTS:
            print(
                f"{LABELS[name]:<34} {median[name]:7.1f} MB/s  ({median[name] / median['curl']:4.0%} of curl)"
                f"  {cpu[name]:5.2f} ms CPU/song (stand-in {served[name]:4.2f})"
            )
        print(f"{fmt.upper()} ratio {ratio:.0%} (target >= {TARGET:.0%}): {'met' if ratio >= TARGET else 'MISSED'}")
        missed = missed or ratio < TARGET
    if args.json:
        args.json.write_text(json.dumps(every, indent=2))
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
