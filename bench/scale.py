"""How cost grows with the data: history, export, new clips, resume, the event log's size, fan-out.

Each figure is taken at sizes 10^3, 10^4, ... next to its reference, measured in the same
run and the same process (these machines are noisy: compare the two curves, not runs):

* ``SEARCH_HISTORY`` (a keyword that hits 5% of records, one that hits none) and
  ``GET_CREATION_HISTORY`` of one account, p50/p99 of a 100-record page, against the bare
  SQLite query (FTS5 for search) on the same file in this process: the command on
  deskbridge's router in this process (the target's figure), and over stdio to the answer's
  last byte (its parse by the client timed apart); also that query answered over pipes by a
  bare Python server (``_bare_pipe.py``: what stdio itself costs), and the query shape the
  studio used before keyset pages (a COUNT and an ORDER BY created_at);
* ``EXPORT_HISTORY_TO_CSV`` of every record against the ``sqlite3`` command-line tool's
  ``-csv`` export of the same table (Debian package ``sqlite3``);
* ``GET_NEW_CLIPS`` with N clips (half already downloaded) against a history of N, next to
  the same lookup in this process;
* resuming from a cursor over WebSocket and polling: time to the first event and to caught
  up, for 1,000 events missed in logs of every size, and for 10..10^5 missed in the largest;
* the event log's bytes per event (a guardian ``time_limit_warning``), and its size as a
  year of such events at one per 5 s is appended under the default retention;
* push of n events to 1, 10, 100, 1,000 WebSocket clients against ``websockets``'
  ``broadcast`` to as many clients.

Slopes are least-squares fits of log(cost) against log(size), over every size and over the
top decade. ``--quick`` stops at 10^4 records, 10^5 events and 100 clients (under 2 minutes).

    .venv/bin/python bench/scale.py [--quick] [--plot FILE.png] [--json FILE] [--only history,export,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web import PIN, reference_server, ws_push

PYTHON = sys.executable
SECTIONS = ("history", "export", "new_clips", "resume", "log_size", "fanout")
HIT, MISS = "neon", "qzxv"
PAGE = 100
YEAR_EVENTS = 365 * 86400 // 5
PIPED = "bare SQLite over a pipe"
PIPE_READ = 64 * 1024
"""What a pipe holds (Linux's default) and what a front end's runtime reads at once (Node's child_process does):
a larger read returns no more, and Python allocates and frees a buffer that size each time (1 MiB: ~50 µs)."""

Row = dict[str, Any]
RESULTS: list[Row] = []


def note(section: str, metric: str, subject: str, size: int, value: float, unit: str) -> None:
    RESULTS.append({"section": section, "metric": metric, "subject": subject, "size": size, "value": value,
                    "unit": unit})  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the studio over stdio ----------------------------------------------------------------


class StdioBackend:
    """``deskbridge stdio studio`` (or ``argv``): one command in flight, answers read as bytes, parsed with orjson."""

    def __init__(self, data_dir: Path, argv: list[str] | None = None) -> None:
        studio = [PYTHON, "-m", "deskbridge", "stdio", "studio", "--data-dir", str(data_dir), "--log-level", "WARNING"]
        self.proc = subprocess.Popen(
            argv or studio, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
        )  # fmt: skip
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        self._buf = bytearray()
        self._ids = 0
        ready = threading.Event()

        def drain() -> None:
            assert self.proc.stderr is not None
            for line in iter(self.proc.stderr.readline, b""):
                if b'"BACKEND_READY"' in line:
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(60) or self.proc.poll() is not None:
            raise RuntimeError("the studio did not start")

    def line(self, command_type: str, payload: Any) -> bytes:
        self._ids += 1
        return orjson.dumps({"id": str(self._ids), "type": command_type, "payload": payload}) + b"\n"

    def send(self, line: bytes) -> Any:
        """Write one command line and return its answer's data (events on the way are skipped)."""
        return orjson.loads(self.answer(line))["data"]

    def answer(self, line: bytes) -> bytes:
        """Write one command line and return its whole answer line, unparsed: the time to the answer's last byte.

        Parsing it is the client's own cost (what JSON library, what language): timed apart, as "parse"."""
        view = memoryview(line)
        while view:
            view = view[os.write(self._in, view) :]
        buf = self._buf
        while True:
            searched = 0  # a long answer arrives in many reads: look for its end in each new piece only
            while (end := buf.find(b"\n", searched)) < 0:
                searched = len(buf)
                chunk = os.read(self._out, PIPE_READ)
                if not chunk:
                    raise EOFError("the studio closed its stdout")
                buf += chunk
            answer = bytes(buf[:end])
            del buf[: end + 1]
            if not answer.startswith(b'{"id":'):
                continue  # an event
            if b'"success":true' not in answer[:200]:
                raise RuntimeError(answer[:500].decode(errors="replace"))
            return answer

    def call(self, command_type: str, payload: Any) -> Any:
        return self.send(self.line(command_type, payload))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


class Words:
    """Deterministic made-up words: every record gets different text, and ``HIT`` in 5% of styles."""

    def __init__(self) -> None:
        rng = random.Random(23)
        syllables = ["ka", "lo", "mi", "ra", "to", "ve", "su", "ne", "di", "pa", "re", "go", "shi", "an", "el"]
        self.words = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(6000)})
        self.words = [w for w in self.words if not w.startswith((HIT, MISS))]
        self.styles = ["synthwave", "lo-fi", "rock", "jazz", "ambient", "folk", "trap", "house", "pop", "metal"]

    def text(self, rng: random.Random, n: int) -> str:
        return " ".join(rng.choices(self.words, k=n))


def fill_history(db: Path, start: int, stop: int, words: Words) -> None:
    """Records ``start`` to ``stop - 1``: one a minute, alternately of 'main' and 'other'."""
    rng = random.Random(start)
    base = datetime(2024, 1, 1)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    rows = []
    for i in range(start, stop):
        account = "main" if i % 2 == 0 else "other"
        style = rng.choice(words.styles) + (f", {HIT} {rng.choice(words.styles)}" if i % 20 == 0 else "")
        tags = json.dumps(rng.sample(words.styles, 2))
        at = (base + timedelta(minutes=i)).isoformat(sep=" ")
        rows.append((f"song-{i:08d}", words.text(rng, 3).title(), i % 10, account, account, "completed",
                     words.text(rng, 40), style, tags, None, None, at, at))  # fmt: skip
        if len(rows) == 20_000 or i == stop - 1:
            conn.executemany(
                "INSERT INTO creation_records (song_id, title, prompt_index, account_name, account_key, status,"
                " lyrics, style, tags, queue_id, error, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            conn.commit()
            rows.clear()
    conn.close()


def fill_downloads(db: Path, start: int, stop: int) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    at = "2025-01-01 10:00:00"
    conn.executemany(
        "INSERT INTO downloads (account_name, clip_id, title, file_path, downloaded_at) VALUES ('main', ?, ?, ?, ?)",
        ((f"clip-{i:08d}", f"Song {i}", f"/music/Song {i}.mp3", at) for i in range(start, stop)),
    )
    conn.commit()
    conn.close()


def timed(run: Any, repeat: int) -> list[float]:
    spent = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        spent.append(time.perf_counter() - began)
    return spent


def measure_studio(sizes: list[int], calls: int, sections: set[str], work: Path) -> None:
    data = work / "studio-data"
    studio = StdioBackend(data)
    try:
        studio.call("CREATE_ACCOUNT", {"name": "main"})
        studio.call("CREATE_ACCOUNT", {"name": "other"})
        db = data / "studio" / "studio.db"
        bare = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        piped = StdioBackend(data, [PYTHON, str(Path(__file__).parent / "_bare_pipe.py"), str(db)])
        in_process = InProcess(db, work)
        words = Words()
        have = have_downloads = 0
        for size in sizes:
            fill_history(db, have, size, words)
            have = size
            if "history" in sections:
                history_figures(studio, Bare(bare, piped), in_process, size, calls)
            if "export" in sections:
                export_figures(studio, db, size, work)
            if "new_clips" in sections and size <= 100_000:  # GET_NEW_CLIPS takes at most 100,000 clips a call
                fill_downloads(db, have_downloads, size // 2)
                have_downloads = size // 2
                new_clips_figures(studio, bare, size)
        bare.close()
        piped.close()
    finally:
        studio.close()


class InProcess:
    """The studio's library commands in this process, on their own connection to the same file: a command line
    decoded, its payload checked, its handler run and its answer encoded by the functions the backend's router
    calls for each. Not timed here: how the router schedules it (``SEARCH_HISTORY`` goes to a worker thread), and
    the pipe."""

    def __init__(self, db: Path, work: Path) -> None:
        from deskbridge.clock import SYSTEM_CLOCK
        from deskbridge.router import Commands
        from deskbridge.store import Database
        from deskbridge.studio.library import commands as library
        from deskbridge.studio.library.accounts import AccountManager
        from deskbridge.studio.library.download_history import DownloadHistory
        from deskbridge.studio.library.history import CreationHistory
        from deskbridge.studio.library.profiles import Profiles
        from deskbridge.studio.library.prompts import PromptLibrary
        from deskbridge.studio.library.queues import QueueManager
        from deskbridge.studio.library.schema import MIGRATIONS
        from deskbridge.studio.suno.create_page import Limits

        clock, limits = SYSTEM_CLOCK, Limits()
        database = Database(db, MIGRATIONS)
        prompts = PromptLibrary(database, clock, limits)
        queues = QueueManager(database, clock, prompts, lambda *_: None, limits)
        history = CreationHistory(database, clock)
        accounts = AccountManager(database, clock, Profiles(work / "profiles"), queues, history)
        commands = Commands()
        studio = library.Studio(accounts, prompts, queues, history, DownloadHistory(database, clock))
        library.register(commands, studio, lambda *_, **__: None)
        self.routes = commands.routes()

    def answer(self, line: bytes) -> bytes:
        from deskbridge import protocol

        command = protocol.decode_command(line)
        route = self.routes[command.type]
        return protocol.success(command.id, command.type, route.call(route.decoder.decode(command.payload)))


class Bare:
    """The reference query: in this process, and answered over pipes by a bare Python server (``_bare_pipe.py``)."""

    def __init__(self, conn: sqlite3.Connection, piped: StdioBackend) -> None:
        self.conn, self.piped = conn, piped

    def query(self, sql: str, params: tuple[Any, ...]) -> Any:
        return lambda: self.conn.execute(sql, params).fetchall()

    def over_pipe(self, sql: str, params: tuple[Any, ...]) -> Any:
        line = self.piped.line("QUERY", {"sql": sql, "params": params})
        return lambda: self.piped.answer(line)


IN_PROCESS = "command in-process"
PARSE = "client's parse (orjson)"


def history_figures(studio: StdioBackend, refs: Bare, in_process: InProcess, size: int, calls: int) -> None:
    """Each case: its command line over stdio and in this process, the bare query (here and over a pipe), and the
    query shape of before; also what the client's parse of the stdio answer costs (not in the command's figure)."""
    bare = refs.conn
    fts = "SELECT r.* FROM creation_search JOIN creation_records r ON r.id = creation_search.rowid"
    old_fts = (f"{fts} WHERE creation_search MATCH ? AND 1", "ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET 0")
    cases: list[tuple[str, str, dict[str, Any], tuple[str, tuple[Any, ...]], Any]] = []
    for label, keyword in (("search hit", HIT), ("search miss", MISS)):
        match = f'"{keyword}"*'
        cases.append((
            label,
            "SEARCH_HISTORY",
            {"keyword": keyword, "limit": PAGE},
            (f"{fts} WHERE creation_search MATCH ? LIMIT ?", (match, PAGE)),
            lambda m=match: (
                bare.execute("SELECT COUNT(*) FROM creation_search JOIN creation_records r"
                             " ON r.id = creation_search.rowid WHERE creation_search MATCH ? AND 1", (m,)).fetchall(),
                bare.execute(f"{old_fts[0]} {old_fts[1]}", (m, PAGE)).fetchall(),
            ),
        ))  # fmt: skip
    cases.append((
        "history of one account",
        "GET_CREATION_HISTORY",
        {"account_name": "main", "limit": PAGE},
        ("SELECT * FROM creation_records WHERE account_key = 'main' ORDER BY created_at DESC, id DESC LIMIT ?",
         (PAGE,)),
        lambda: (
            bare.execute("SELECT COUNT(*) FROM creation_records r WHERE r.account_key = 'main'").fetchall(),
            bare.execute("SELECT r.* FROM creation_records r WHERE r.account_key = 'main'"
                         " ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET 0", (PAGE,)).fetchall(),
        ),
    ))  # fmt: skip
    for label, command_type, payload, (sql, params), old in cases:
        spent: dict[str, list[float]] = {
            "deskbridge": [], IN_PROCESS: [], "bare SQLite": [], PIPED: [], "before (COUNT + sort)": [], PARSE: [],
        }  # fmt: skip
        line = studio.line(command_type, payload)

        def command(line: bytes = line) -> bytes:
            return studio.answer(line)

        def here(line: bytes = line) -> bytes:
            return in_process.answer(line)

        reference, piped = refs.query(sql, params), refs.over_pipe(sql, params)
        for run in (command, here, reference, piped, old):
            run()  # warm the page cache and the statement cache
        answer = command()
        expected = len(reference())
        for body in (answer, here()):  # the same records, not an error or an empty page that happens to be fast
            assert len(orjson.loads(body)["data"]["items"]) == expected, (label, size)

        def parse(answer: bytes = answer) -> Any:
            return orjson.loads(answer)

        block = max(1, calls // 5)
        for _ in range(5):  # alternate, so drift on the machine hits every subject alike
            spent["deskbridge"] += timed(command, block)
            spent[IN_PROCESS] += timed(here, block)
            spent["bare SQLite"] += timed(reference, block)
            spent[PIPED] += timed(piped, block)
            spent["before (COUNT + sort)"] += timed(old, max(1, block // 4) if size >= 10**6 else block)
            spent[PARSE] += timed(parse, block)
        for subject, values in spent.items():
            note("history", f"{label} p50", subject, size, percentile(values, 0.5), "s")
            note("history", f"{label} p99", subject, size, percentile(values, 0.99), "s")


def export_figures(studio: StdioBackend, db: Path, size: int, work: Path) -> None:
    """The command and the tool, three times each, alternating: the median of each, so neither pays alone for the
    first read of a file the fill just wrote (cold caches cost the first export a third of its speed)."""
    target, out = work / "export.csv", work / "tool.csv"
    tool = shutil.which("sqlite3")
    columns = ("created_at, song_id, title, account_name, status, prompt_index, style, tags, lyrics, queue_id, error,"
               " updated_at")  # fmt: skip

    def command() -> None:
        rows = studio.call("EXPORT_HISTORY_TO_CSV", {"output_path": str(target), "overwrite": True})["rows"]
        assert rows == size, rows

    def reference() -> None:
        assert tool is not None
        with open(out, "wb") as sink:
            query = f"SELECT {columns} FROM creation_records ORDER BY created_at, id"
            subprocess.run([tool, "-readonly", "-csv", "-header", str(db), query], stdout=sink, check=True)
            sink.flush()
            os.fsync(sink.fileno())  # as the export does

    subjects = [("deskbridge", command, target)]
    if tool is None:
        print("  (no sqlite3 command-line tool: apt-get install sqlite3, the Debian package, for the reference)")
    else:
        subjects.append(("sqlite3 tool", reference, out))
    spent: dict[str, list[float]] = {name: [] for name, _, _ in subjects}
    for _ in range(3):
        for name, run, _ in subjects:
            spent[name] += timed(run, 1)
    for name, _, path in subjects:
        median = statistics.median(spent[name])
        note("export", "time", name, size, median, "s")
        note("export", "rows/s", name, size, size / median, "rows/s")
        note("export", "MB/s", name, size, path.stat().st_size / 1e6 / median, "MB/s")
        path.unlink()


def new_clips_figures(studio: StdioBackend, bare: sqlite3.Connection, size: int) -> None:
    clips = [{"id": f"clip-{i:08d}", "title": f"Song {i}", "audio_url": f"https://cdn.example/clip-{i:08d}.mp3"}
             for i in range(0, size)]  # fmt: skip  # ids below size // 2 are in the history
    line = studio.line("GET_NEW_CLIPS", {"account_name": "main", "all_clips": clips})

    def reference() -> list[Any]:
        ids = [clip["id"] for clip in clips]
        known: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = bare.execute(f"SELECT clip_id FROM downloads WHERE account_name = 'main' AND clip_id IN"
                                f" ({','.join('?' * len(chunk))})", chunk)  # fmt: skip
            known.update(row[0] for row in rows)
        return [clip for clip in clips if clip["id"] not in known]

    assert len(studio.send(line)) == len(reference()) == size - size // 2
    repeat = 3 if size >= 100_000 else 7
    for subject, run in (("deskbridge", lambda: studio.send(line)), ("same lookup in-process", reference)):
        note("new_clips", "time", subject, size, statistics.median(timed(run, repeat)), "s")


# -- the event log ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


def guardian_event(now: float) -> dict[str, Any]:
    """What the guardian sends as a child nears a limit: one of its larger routine events."""
    from deskbridge.guardian import events

    session = {"session_id": str(uuid.uuid4()), "child_profile": "child", "duration_minutes": 55,
               "is_active": True, "duration_seconds": 3300, "started_at": events.iso(now - 3300)}  # fmt: skip
    return events.session_event("time_limit_warning", session, now, minutes_remaining=5, threshold_minutes=5)


def db_bytes(path: Path) -> tuple[int, int]:
    """(bytes of live pages, bytes on disk with the WAL)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    (pages,), (free,), (page_size,) = (conn.execute(f"PRAGMA {p}").fetchone() for p in
                                       ("page_count", "freelist_count", "page_size"))  # fmt: skip
    conn.close()
    wal = Path(f"{path}-wal")
    return (pages - free) * page_size, path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


async def log_growth(sizes: list[int], work: Path) -> None:
    """Append guardian events one per 5 s (simulated) with the default retention, and without any."""
    from deskbridge.events import EventLog, Retention

    loop = asyncio.get_running_loop()
    unbounded = Retention(max_age=None, max_count=None, max_bytes=None)
    for label, retention in (("default retention", Retention()), ("no retention", unbounded)):
        path = work / f"growth-{label.split()[0]}.db"
        clock = FakeClock()
        log = EventLog(path, schedule=loop.call_soon, clock=clock, retention=retention)
        appended = 0
        for size in sizes:
            while appended < size:
                for _ in range(min(1000, size - appended)):
                    clock.now += 5
                    log.append(guardian_event(clock.now))
                    appended += 1
                await asyncio.sleep(0)
            await log.wait_committed()
            log.trim()
            live, disk = db_bytes(path)
            note("log_size", "live bytes", label, size, live, "B")
            note("log_size", "file bytes", label, size, disk, "B")
            if label == "no retention":
                note("log_size", "bytes/event", label, size, live / size, "B")
        log.close()
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()


def fill_events(path: Path, start: int, stop: int) -> str:
    """Events ``start + 1`` to ``stop`` written straight into a log file; returns its epoch."""
    from deskbridge.events import EventLog

    if start == 0:
        EventLog(path, schedule=lambda callback: None).close()  # the schema and the epoch
    body = orjson.dumps(guardian_event(FakeClock().now))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    for first in range(start + 1, stop + 1, 100_000):
        last = min(stop, first + 99_999)
        conn.executemany(
            "INSERT INTO events (seq, type, time_ms, body, keep) VALUES (?, 'session_event', ?, ?, 0)",
            ((seq, 1_767_225_600_000 + seq * 5000, body[:-1] + b',"seq":%d}' % seq) for seq in range(first, last + 1)),
        )
        conn.commit()
    (epoch,) = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    conn.close()
    return str(epoch)


@contextmanager
def diag_server(
    data_dir: Path, started: list[float] | None = None, *, clean_stop: bool = True
) -> Iterator[tuple[int, str]]:
    """``deskbridge serve diag`` on ``data_dir`` without retention; ``started`` gets the seconds to ready.

    Stopped the way a front end stops it (SIGTERM), so the next start skips ``quick_check`` on the databases
    left as they were; or killed (``clean_stop=False``), so the next start checks them in full."""
    config = data_dir / "config.json"
    config.write_text(json.dumps({"events": {"max_age_days": None, "max_count": None, "max_megabytes": None}}))
    began = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "-m", "deskbridge", "serve", "diag", "--port", "0", "--data-dir", str(data_dir),
         "--config", str(config), "--log-level", "WARNING"],
        stderr=subprocess.PIPE, preexec_fn=PIN.server_preexec(),
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        while b'"BACKEND_READY"' not in (line := proc.stderr.readline()):
            if not line:
                raise RuntimeError("deskbridge serve did not start")
        if started is not None:
            started.append(time.perf_counter() - began)
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        yield int(json.loads(line)["port"]), (data_dir / "token").read_text().strip()
        if clean_stop:
            proc.terminate()
            proc.wait(30)
    finally:
        proc.kill()
        proc.wait()


async def resume_ws(port: int, token: str, epoch: str, head: int, missed: int) -> tuple[float, float]:
    """Seconds from connecting with a cursor ``missed`` events back to the first event, and to the last."""
    began = time.perf_counter()
    url = f"ws://127.0.0.1:{port}/ws?token={token}&epoch={epoch}&after={head - missed}"
    first = 0.0
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        while True:
            message = orjson.loads(await ws.recv())
            seq = message.get("seq")
            if seq is None:
                continue
            first = first or time.perf_counter() - began
            if seq >= head:
                return first, time.perf_counter() - began


async def resume_polling(port: int, token: str, epoch: str, head: int, missed: int) -> tuple[float, float]:
    import aiohttp

    began = time.perf_counter()
    first, after = 0.0, head - missed
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}) as http:
        while after < head:
            params = {"after": after, "epoch": epoch, "limit": 1000}
            async with http.get("/api/events", params=params) as response:
                page = orjson.loads(await response.read())
            assert page["recovered"], page
            first = first or time.perf_counter() - began
            after = page["last_seq"]
    return first, time.perf_counter() - began


FIRST_START = "start to BACKEND_READY, first after filling (quick_check)"
RESTART = "start to BACKEND_READY after a clean stop"
COLD_CHECKED = "start to BACKEND_READY after a kill, log not cached (quick_check)"
COLD_RESTART = "start to BACKEND_READY after a clean stop, log not cached"


def uncache(path: Path) -> None:
    """Drop the file's pages from the OS's page cache (this file only): a start as after a reboot."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def measure_resume(sizes: list[int], work: Path, repeat: int) -> None:
    data = work / "diag-data"
    (data / "events").mkdir(parents=True)
    path = data / "events" / "diag.db"
    have = 0
    for size in sizes:
        epoch = fill_events(path, have, size)
        have = size
        note("log_size", "bytes/event (file as filled)", "resume log", size, db_bytes(path)[0] / size, "B")
        started: list[float] = []
        with diag_server(data, started) as (port, token):  # the log was just written: its first start checks it all
            note("resume", FIRST_START, "deskbridge serve", size, started[0], "s")
            for resume in (resume_ws, resume_polling):  # the first connection to a new server pays its warm-up
                asyncio.run(resume(port, token, epoch, size, min(10, size)))
            missed_counts = [min(1000, size)]
            if size == sizes[-1]:
                missed_counts = [m for m in (10, 100, 1000, 10_000, 100_000) if m <= size]
            for missed in missed_counts:
                for door, resume in (("WebSocket", resume_ws), ("polling", resume_polling)):
                    runs = [asyncio.run(resume(port, token, epoch, size, missed)) for _ in range(repeat)]
                    first = statistics.median(r[0] for r in runs)
                    done = statistics.median(r[1] for r in runs)
                    if missed == min(1000, size):
                        note("resume", "first event, 1,000 missed", door, size, first, "s")
                        note("resume", "caught up, 1,000 missed", door, size, done, "s")
                    if size == sizes[-1]:
                        note("resume", f"caught up, log of {size:,}", door, missed, done, "s")
        with diag_server(data, started, clean_stop=False):
            note("resume", RESTART, "deskbridge serve", size, started[1], "s")
        uncache(path)
        with diag_server(data, started):
            note("resume", COLD_CHECKED, "deskbridge serve", size, started[2], "s")
        uncache(path)
        with diag_server(data, started):
            note("resume", COLD_RESTART, "deskbridge serve", size, started[3], "s")


# -- fan-out -------------------------------------------------------------------------------


def measure_fanout(clients: list[int], per_run: int, repeat: int) -> None:
    with contextlib.ExitStack() as servers:
        data = Path(servers.enter_context(tempfile.TemporaryDirectory()))
        port, token = servers.enter_context(diag_server(data))
        reference = servers.enter_context(reference_server("websockets"))
        for count in clients:
            n = max(20, per_run // count)
            subjects = [
                ("deskbridge", [f"ws://127.0.0.1:{port}/ws?token={token}"] * count,
                 f'{{"id":"e","type":"EMIT","payload":{{"count":{n}}}}}', True),
                ("websockets broadcast", [f"ws://127.0.0.1:{reference}/"] * count,
                 json.dumps({"broadcast": n}), False),
            ]  # fmt: skip
            rates: dict[str, list[float]] = {subject: [] for subject, *_ in subjects}
            for _ in range(repeat):  # alternating, so drift on the machine hits both alike
                for subject, urls, trigger, deskbridge in subjects:
                    rates[subject].append(asyncio.run(ws_push(urls, n, trigger, deskbridge=deskbridge)))
            for subject, values in rates.items():
                note("fanout", "messages/s", subject, count, statistics.median(values), "msg/s")


# -- report --------------------------------------------------------------------------------


def series(section: str, metric: str, subject: str) -> list[tuple[int, float]]:
    return sorted((r["size"], r["value"]) for r in RESULTS
                  if (r["section"], r["metric"], r["subject"]) == (section, metric, subject))  # fmt: skip


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(value) against log(size); nan with fewer than two points."""
    if len(points) < 2:
        return math.nan
    xs = [math.log10(size) for size, _ in points]
    ys = [math.log10(max(value, 1e-12)) for _, value in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def cell(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1e3:.3g} ms" if value < 1 else f"{value:.3g} s"
    if unit == "B":
        return f"{value / 1e6:,.1f} MB" if value >= 1e6 else f"{value:,.0f} B"
    return f"{value:,.0f}"


def table() -> str:
    keys = list(dict.fromkeys((r["section"], r["metric"], r["subject"], r["unit"]) for r in RESULTS))
    sizes = sorted({r["size"] for r in RESULTS})
    head = "| section | figure | subject | " + " | ".join(f"{s:,}" for s in sizes)
    head += " | slope (all) | slope (top decade) |"
    lines = [head, "|" + "---|" * 3 + "---:|" * (len(sizes) + 2)]
    for section, metric, subject, unit in keys:
        points = series(section, metric, subject)
        values = dict(points)
        row = [cell(values[s], unit) if s in values else "" for s in sizes]
        lines.append(f"| {section} | {metric} | {subject} | " + " | ".join(row)
                     + f" | {slope(points):.2f} | {slope(points[-2:]):.2f} |")  # fmt: skip
    return "\n".join(lines)


def targets() -> list[str]:
    out = []

    def at_top(section: str, metric: str, subject: str) -> tuple[int, float] | None:
        points = series(section, metric, subject)
        return points[-1] if points else None

    for label in ("search hit", "search miss", "history of one account"):
        metric = f"{label} p50"
        bare, here = at_top("history", metric, "bare SQLite"), at_top("history", metric, IN_PROCESS)
        if here and bare:
            ratio = here[1] / bare[1]
            out.append(f"{label} p50 at {here[0]:,}, the command in this process: {ratio:.2f}x the bare query in this"
                       f" process (wanted <= 2x): {'met' if ratio <= 2 else 'MISSED'}")  # fmt: skip
        ours, piped = at_top("history", metric, "deskbridge"), at_top("history", metric, PIPED)
        if ours and piped and bare:
            out.append(f"  over stdio: {ours[1] / bare[1]:.2f}x the bare query in this process,"
                       f" {ours[1] / piped[1]:.2f}x the bare query answered over a pipe"
                       f" (itself {piped[1] / bare[1]:.2f}x the bare query)")  # fmt: skip
    ours, tool = at_top("export", "rows/s", "deskbridge"), at_top("export", "rows/s", "sqlite3 tool")
    if ours and tool:
        ratio = ours[1] / tool[1]
        out.append(f"export at {ours[0]:,}: {ratio:.0%} of the sqlite3 tool's rows/s (wanted >= 50%): "
                   f"{'met' if ratio >= 0.5 else 'MISSED'}")  # fmt: skip
    ours, ref = at_top("fanout", "messages/s", "deskbridge"), at_top("fanout", "messages/s", "websockets broadcast")
    if ours and ref:
        ratio = ours[1] / ref[1]
        out.append(f"fan-out to {ours[0]:,} clients: {ratio:.0%} of broadcast's messages/s (wanted >= 80%): "
                   f"{'met' if ratio >= 0.8 else 'MISSED'}")  # fmt: skip
    for door in ("WebSocket", "polling"):
        flat = series("resume", "caught up, 1,000 missed", door)
        if len(flat) >= 2:
            out.append(f"resume ({door}), 1,000 missed, against the log's size: slope {slope(flat):.2f} "
                       "(wanted ~0: not in the log's size)")  # fmt: skip
        grows = [p for p in RESULTS if p["section"] == "resume" and p["metric"].startswith("caught up, log of")
                 and p["subject"] == door]  # fmt: skip
        if len(grows) >= 2:
            points = sorted((p["size"], p["value"]) for p in grows)
            out.append(f"resume ({door}) against the events missed: slope {slope(points[-3:]):.2f} over the top"
                       " two decades (wanted <= 1: linear in the events missed)")  # fmt: skip
    costs = {(r["section"], r["metric"], r["subject"]) for r in RESULTS
             if r["unit"] in ("s", "B") and not r["subject"].startswith("before")}  # fmt: skip
    steep = []
    for key in sorted(costs):
        points = series(*key)
        if len(points) >= 2 and slope(points[-2:]) > 1.2:
            steep.append(f"{' / '.join(key)} ({slope(points[-2:]):.2f})")
    out.append("every cost at most linear in its size (top-decade slope <= 1.2): "
               + ("met" if not steep else "MISSED by " + "; ".join(steep)))  # fmt: skip
    per_event = series("log_size", "bytes/event", "no retention")
    if per_event:
        size, each = per_event[-1]
        out.append(f"event log: {each:.0f} bytes per guardian event (at {size:,}); a year at one per 5 s "
                   f"({YEAR_EVENTS:,} events) without retention: {YEAR_EVENTS * each / 1e9:.2f} GB")  # fmt: skip
        kept = series("log_size", "live bytes", "default retention")
        if kept:
            out.append(f"  under the default retention (100,000 events, 256 MiB, 7 days) it stays at "
                       f"{kept[-1][1] / 1e6:.1f} MB after {kept[-1][0]:,} events")  # fmt: skip
    return out


def history_lines(metric: str, reference: str, before: str) -> list[tuple[str, str, str]]:
    subjects = [("deskbridge", "deskbridge over stdio"), (IN_PROCESS, "the command in this process"),
                ("bare SQLite", reference), (PIPED, "the same, answered over a pipe"),
                ("before (COUNT + sort)", before)]  # fmt: skip
    return [(metric, subject, label) for subject, label in subjects]


PANELS: list[tuple[str, str, list[tuple[str, str, str]], str, str]] = [
    ("SEARCH_HISTORY, keyword hits 5%: p50", "history",
     history_lines("search hit p50", "bare FTS5 query (reference)", "before: COUNT + ORDER BY created_at"),
     "records in the history", "seconds per call"),
    ("GET_CREATION_HISTORY, one account: p50", "history",
     history_lines("history of one account p50", "bare SQLite query (reference)", "before: COUNT + OFFSET"),
     "records in the history", "seconds per call"),
    ("EXPORT_HISTORY_TO_CSV", "export",
     [("time", "deskbridge", "deskbridge"), ("time", "sqlite3 tool", "sqlite3 -csv (reference)")],
     "records exported", "seconds"),
    ("GET_NEW_CLIPS, N clips vs N downloaded", "new_clips",
     [("time", "deskbridge", "deskbridge"), ("time", "same lookup in-process", "same lookup in-process")],
     "clips (N)", "seconds per call"),
    ("Resume, 1,000 events missed; server start", "resume",
     [("caught up, 1,000 missed", "WebSocket", "WebSocket: caught up"),
      ("caught up, 1,000 missed", "polling", "polling: caught up"),
      ("first event, 1,000 missed", "WebSocket", "WebSocket: first event"),
      (FIRST_START, "deskbridge serve", "server start to ready, first after filling (quick_check)"),
      (RESTART, "deskbridge serve", "server start to ready after a clean stop"),
      (COLD_CHECKED, "deskbridge serve", "the same after a kill, log not cached (quick_check)"),
      (COLD_RESTART, "deskbridge serve", "the same after a clean stop, log not cached")],
     "events in the log", "seconds"),
    ("Resume from the largest log", "resume", [], "events missed", "seconds to caught up"),
    ("Event log on disk, one event per 5 s", "log_size",
     [("live bytes", "no retention", "no retention"), ("live bytes", "default retention", "default retention")],
     "events appended", "bytes"),
    ("Push to N WebSocket clients", "fanout",
     [("messages/s", "deskbridge", "deskbridge"), ("messages/s", "websockets broadcast", "websockets broadcast")],
     "clients", "messages per second (all clients)"),
]  # fmt: skip


def plot(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(20, 9.5))
    for ax, (title, section, lines, xlabel, ylabel) in zip(axes.flat, PANELS, strict=True):
        if not lines:  # resume against the events missed: one line per door
            lines = [(m, door, f"{door}") for m in sorted({r["metric"] for r in RESULTS
                     if r["metric"].startswith("caught up, log of")}) for door in ("WebSocket", "polling")]  # fmt: skip
            if lines:
                title += f" ({lines[0][0].split('of ')[1]} events)"
        drawn = False
        for metric, subject, label in lines:
            points = series(section, metric, subject)
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", label=f"{label} (slope {slope(points):.2f})")
                drawn = True
        if drawn:
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.legend(fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("deskbridge: cost against size (log-log), each next to its reference from the same run")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under 2 minutes)")
    parser.add_argument("--plot", type=Path, help="write a log-log plot of every figure to this PNG")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"a subset of {','.join(SECTIONS)}")
    parser.add_argument("--max-records", type=int, help="the largest history (default 10^6)")
    parser.add_argument("--max-events", type=int, help="the largest event log (default 10^7 where disk allows)")
    args = parser.parse_args()
    sections = set(args.only.split(","))
    studio_sizes = [10**k for k in range(3, 5 if args.quick else 7)]
    event_sizes = [10**k for k in range(3, 6 if args.quick else 8)]
    if args.max_records:
        studio_sizes = [s for s in studio_sizes if s <= args.max_records]
    if args.max_events:
        event_sizes = [s for s in event_sizes if s <= args.max_events]
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="deskbridge-scale-") as tmp:
        work = Path(tmp)
        free = shutil.disk_usage(work).free
        if event_sizes[-1] * 400 * 3 > free:  # the log, its copy in the page cache's way, and room to spare
            event_sizes = [s for s in event_sizes if s * 400 * 3 <= free]
            print(f"event logs up to {event_sizes[-1]:,} events: {free / 1e9:.0f} GB free")
        if sections & {"history", "export", "new_clips"}:
            print(f"studio at {', '.join(f'{s:,}' for s in studio_sizes)} records ...", flush=True)
            measure_studio(studio_sizes, 40 if args.quick else 200, sections, work)
        if "log_size" in sections:
            print("event log growth ...", flush=True)
            asyncio.run(log_growth([10**k for k in range(3, 6 if args.quick else 7)], work))
        if "resume" in sections:
            print(f"resume from logs of {', '.join(f'{s:,}' for s in event_sizes)} events ...", flush=True)
            measure_resume(event_sizes, work, 1 if args.quick else 3)
        if "fanout" in sections:
            print("fan-out ...", flush=True)
            PIN.pin_client()
            measure_fanout([1, 10, 100] if args.quick else [1, 10, 100, 1000], 20_000 if args.quick else 100_000,
                           1 if args.quick else 5)  # fmt: skip
    print()
    print(table())
    print()
    print("\n".join(targets()))
    print(f"\n({time.perf_counter() - began:.0f} s; sqlite3 tool: {shutil.which('sqlite3') or 'missing'}; {PIN})")
    if args.json:
        args.json.write_text(json.dumps(RESULTS, indent=1))
    if args.plot:
        plot(args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
