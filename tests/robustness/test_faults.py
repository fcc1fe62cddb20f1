"""The fault matrix: kill, starve or corrupt a backend at the worst moment, then count what survived.

Each test is one row of docs/reliability.md (``tests/robustness/cases.py``
says which, with what the user sees). The rule every row checks: nothing a
client was told is lost. A client was told an event when it received it, and
a command's effect when it received the command's answer; both must be found
again after the fault. What was in flight and never answered may be gone, but
only whole: no half batch, no half file under its final name.

Disk full and read-only use a small tmpfs (root only; skipped elsewhere with
the reason). Rows covered by other modules are listed in cases.py, not
repeated here.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mutagen.id3 import ID3

from deskbridge.events import RETRY_MAX
from deskbridge_standins.suno import StandinControl
from tests.guardian.support import FakeClock, FakeProcesses, Harness, paris
from tests.robustness.support import (
    FUZZ_SETTINGS,
    drain,
    events_on_disk,
    gaps_and_duplicates,
    process_gone,
    record,
    remount,
    tmpfs,
)
from tests.studio.standin_studio import studio_on, terminal
from tests.studio.suno import support as suno_support
from tests.support import DESKBRIDGE, BackendProcess, start_failure, wait_until
from tests.webserver import WebServer

standin, suno = suno_support.standin, suno_support.suno
Spawn = Callable[..., BackendProcess]
Serve = Callable[..., WebServer]


def bodies(events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {event["seq"]: event for event in events}


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` by its content: two equal digests mean nothing was written."""
    files = sorted(path for path in root.rglob("*") if path.is_file())
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def audio_of(path: Path) -> bytes:
    """The file's bytes after its ID3 tag: what the server sent."""
    return path.read_bytes()[ID3(path).size :]


@pytest.fixture
def token(suno: StandinControl) -> str:
    return suno.session()["jwt"]


# -- SIGKILL of the backend -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the line the kill cut
def test_sigkill_during_an_event_burst_loses_no_event_a_client_received(spawn: Spawn, tmp_path: Path) -> None:
    """stdio: EMITs of 50 events sent as fast as the pipe takes them; SIGKILL once 2000 events and 20 answers
    are out (the web door's twin is tests/transports/test_web_events.py::test_kill_9_during_bursts...)."""
    config = tmp_path / "config.json"
    config.write_text('{"events": {"max_count": null}}')  # no trimming: every event ever raised stays comparable
    backend = spawn("diag", extra=("--config", str(config)))
    sent: list[str] = []
    killed = threading.Event()

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            while not killed.is_set():
                sent.append(backend.send("EMIT", {"count": 50, "type": f"BURST_{len(sent)}"}))

    feeder = threading.Thread(target=feed)
    feeder.start()
    answered: set[str] = set()
    while len(backend.events) < 2000 or len(answered) < 20:
        message = backend.next_message()
        if "seq" not in message:
            answered.add(message["id"])
    backend.proc.kill()
    killed.set()
    answered |= {m["id"] for m in drain(backend) if "seq" not in m}  # what was in the pipe reached the client too
    feeder.join(10)
    received = backend.events

    again = spawn("diag", data_dir=tmp_path / "data", extra=("--config", str(config)))
    on_disk = events_on_disk(again)
    stored = bodies(on_disk)
    lost = [event["seq"] for event in received if stored.get(event["seq"]) != event]
    missing, duplicates = gaps_and_duplicates([event["seq"] for event in on_disk], again.ready["last_seq"])
    per_type = collections.Counter(event["type"] for event in on_disk)
    half_done = [i for i, command_id in enumerate(sent) if command_id in answered and per_type[f"BURST_{i}"] != 50]
    again.ok("EMIT", {"count": 1, "type": "AFTER"})
    after = again.wait_event(lambda event: event["type"] == "AFTER")
    record(
        "fault.kill-burst",
        commands_sent=len(sent),
        commands_answered=len(answered),
        events_received=len(received),
        events_on_disk=len(on_disk),
        events_lost=len(lost),
        duplicates=duplicates,
        gaps=missing,
    )
    assert len(answered) < len(sent), "the kill came after the burst: nothing was in flight"
    assert lost == [], "events a client received are not on disk after the restart"
    assert half_done == [], "answered EMITs whose events are not all on disk"
    assert (missing, duplicates) == (0, 0)
    assert after["seq"] == again.ready["last_seq"] + 1, "a seq was given out twice"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_sigkill_during_a_batch_download_keeps_every_file_the_client_was_told_of(
    standin: StandinControl, suno: StandinControl, token: str, tmp_path: Path
) -> None:
    """Twelve clips, two at a time, each slowed by the CDN; SIGKILL once three are done and another is being
    written; restart and finish: the re-run gives that clip its own name and leaves no .part, and a file the kill
    left finished but unrecorded is adopted as it is, never downloaded again as 'Title (2).mp3'."""
    suno.settings(audio_bytes=200_000)
    suno.faults({"path": "/cdn/*.mp3", "kind": "delay", "seconds": 0.25, "times": None})
    clips = suno.seed(*({"title": f"Song {i:02}"} for i in range(12)))
    served = {clip["id"]: suno.fetch(clip["audio_url"]) for clip in clips}
    out = tmp_path / "music"
    batch = {"clips": clips, "output_dir": str(out), "account_name": "ada", "session_token": token, "parallel": 2}

    with studio_on(standin, tmp_path / "studio") as first:
        first.ok("CREATE_ACCOUNT", {"name": "ada"})
        operation = first.ok("BATCH_DOWNLOAD", batch)["operation_id"]

        def told() -> set[str]:
            downloaded = [e for e in first.events if e.get("payload", {}).get("clip_status") == "downloaded"]
            return {e["payload"]["clip_id"] for e in downloaded}

        while len(told()) < 3:
            first.next_message()
        wait_until(lambda: any(out.glob("*.mp3.part")), 10, "a clip being written")
        first.proc.kill()
        drain(first)
        told_downloaded = told()

    suno.faults()
    with studio_on(standin, tmp_path / "studio") as second:
        history = {item["clip_id"]: Path(item["file_path"]) for item in second.ok(
            "GET_DOWNLOAD_HISTORY", {"account_name": "ada"})["items"]}  # fmt: skip
        on_disk = [e.get("payload", {}) for e in events_on_disk(second)]
        interrupted = [payload for payload in on_disk if payload.get("operation_id") == operation]
        broken = [name for name, path in history.items() if not path.exists() or audio_of(path) != served[name]]
        finals = sorted(out.glob("*.mp3"))
        partial_finals = [p.name for p in finals if audio_of(p) not in served.values()]
        parts_left = sorted(p.name for p in out.glob("*.part"))
        rerun = second.ok("BATCH_DOWNLOAD", batch)["operation_id"]
        result = terminal(second, rerun, timeout=60)["result"]
        after = {item["clip_id"]: Path(item["file_path"]) for item in second.ok(
            "GET_DOWNLOAD_HISTORY", {"account_name": "ada", "limit": 100})["items"]}  # fmt: skip
        parts_after_rerun = sorted(p.name for p in out.glob("*.part"))
    finals_after_rerun = sorted(p.name for p in out.glob("*.mp3"))
    adopted = {f["clip_id"]: f["file_name"] for f in result["files"] if f.get("adopted")}
    unrecorded = {p.name for p in finals} - {path.name for path in history.values()}
    titles = {clip["id"]: clip["title"] for clip in clips}
    cut_short = {name.removesuffix(".mp3.part") for name in parts_left}
    renamed_cut_short = sorted(path.name for clip_id, path in after.items() if titles[clip_id] in cut_short
                               and path.name != f"{titles[clip_id]}.mp3")  # fmt: skip

    record(
        "fault.kill-download",
        clips=len(clips),
        told_downloaded=len(told_downloaded),
        in_history_after_restart=len(history),
        lost=len(told_downloaded - set(history)),
        broken_history_files=len(broken),
        partial_files_under_final_name=len(partial_finals),
        part_files_left=len(parts_left),
        part_files_left_after_rerun=len(parts_after_rerun),
        complete_files_not_in_history=len(finals) - len(history),
        adopted_on_rerun=len(adopted),
        renamed_on_rerun=sum(1 for path in after.values() if " (" in path.name),
        cut_short_renamed_on_rerun=len(renamed_cut_short),
        rerun_skipped=result["skipped"],
        rerun_downloaded=result["downloaded"],
    )
    assert told_downloaded <= set(history), "a clip the client was told was downloaded is not in the history"
    assert broken == [], "a history entry whose file is missing or incomplete"
    assert partial_finals == [], "a partial file under a final .mp3 name"
    assert parts_left, "the kill came between two clips: none was being written"
    assert renamed_cut_short == [], "the re-run stepped around the .part of a clip the kill cut short"
    assert parts_after_rerun == [], "a .part left by the kill is still there after the re-run"
    assert set(adopted.values()) == unrecorded, "a file the kill left unrecorded was not adopted as it is"
    assert all(" (" not in path.name for path in after.values()), "the re-run downloaded a clip again as 'Title (2)'"
    assert finals_after_rerun == sorted(f"{clip['title']}.mp3" for clip in clips), "one file per clip, no duplicate"
    assert interrupted[-1]["status"] == "failed"
    assert interrupted[-1]["error_code"] == "OPERATION_INTERRUPTED"
    assert (result["skipped"], result["downloaded"], result["failed"]) == (len(history), 12 - len(history), 0)
    assert all(audio_of(path) == served[name] for name, path in after.items())
    assert set(after) == set(served)


def caught_writing(studio: BackendProcess, command_id: str, folder: Path, timeout: float = 30) -> bool:
    """True as soon as the export's temporary file shows in ``folder``; False if its answer came first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(folder.glob(".history.*.tmp")):
            return True
        with contextlib.suppress(queue.Empty):
            if studio.next_message(timeout=0.0005).get("id") == command_id:
                return False
    raise AssertionError("the export neither wrote nor answered")


def test_sigkill_during_a_history_export_leaves_the_previous_file_whole(spawn: Spawn, tmp_path: Path) -> None:
    """Export 600 songs, add 100, export again over it and SIGKILL while the new file is being written; the next
    export to that target removes the temporary file the killed one left."""
    studio = spawn("studio")
    studio.ok("CREATE_ACCOUNT", {"name": "ada"})

    def add(first: int, count: int) -> None:
        for index in range(first, first + count):
            record_in = {"song_id": f"song-{index}", "title": f"Song {index}", "prompt_index": index,
                         "account_name": "ada", "status": "completed", "lyrics": "la " * 3000}  # fmt: skip
            studio.ok("ADD_CREATION_RECORD", {"record": record_in})

    add(0, 600)
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "history.csv"
    assert studio.ok("EXPORT_HISTORY_TO_CSV", {"output_path": str(target)})["rows"] == 600
    before = target.read_bytes()
    add(600, 100)
    for _attempt in range(10):  # until the kill lands while the new file is being written
        command_id = studio.send("EXPORT_HISTORY_TO_CSV", {"output_path": str(target), "overwrite": True})
        if caught_writing(studio, command_id, out):
            break
        before = target.read_bytes()  # it finished first: this is now the file to keep whole
    studio.proc.kill()
    studio.proc.wait(10)
    leftovers = sorted(p.name for p in out.glob(".history.*.tmp"))
    intact = target.read_bytes() == before

    again = spawn("studio", data_dir=tmp_path / "data")
    total, cursor = 0, None
    while True:  # ~9 kB records: a page holds about a hundred (1 MiB)
        page = again.ok("GET_CREATION_HISTORY", {"cursor": cursor} if cursor else {})
        total += len(page["items"])
        if not (cursor := page["next_cursor"]):
            break
    rows = again.ok("EXPORT_HISTORY_TO_CSV", {"output_path": str(target), "overwrite": True})["rows"]
    after_rerun = sorted(p.name for p in out.iterdir())
    record(
        "fault.kill-export", records=total, previous_file_intact=intact, temp_files_left=len(leftovers),
        temp_files_left_after_next_export=sum(1 for name in after_rerun if name.endswith(".tmp")),
    )  # fmt: skip
    assert leftovers, "the kill came after the export: the temporary file was already renamed"
    assert after_rerun == ["history.csv"], "the next export to the target removes what the killed one left"
    assert intact, "the previous export was damaged by an export killed half-way"
    assert total == 700, "records acknowledged before the export are gone"
    assert rows == 700


def count_rows(database: Path, sql: str) -> list[Any]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return db.execute(sql).fetchall()


def test_sigkill_during_sqlite_writes_loses_no_acknowledged_write_and_no_write_is_half_done(
    spawn: Spawn, tmp_path: Path
) -> None:
    """Three rounds: batches of 300 prompts written back to back, SIGKILL at a random moment, integrity checked."""
    chooser = random.Random(10)
    data = tmp_path / "data"
    acknowledged: list[str] = []
    in_flight: list[str] = []
    for round_number in range(3):
        studio = spawn("studio", data_dir=data)
        stop = threading.Event()

        def write(
            backend: BackendProcess = studio, prefix: str = f"r{round_number}", stop: threading.Event = stop
        ) -> None:
            with contextlib.suppress(BrokenPipeError, OSError, EOFError, TimeoutError):
                for batch in range(10_000):
                    if stop.is_set():
                        return
                    name = f"{prefix}-b{batch}"
                    in_flight.append(name)
                    prompts = [{"title": f"{name}-{k}", "lyrics": "words " * 50} for k in range(300)]
                    backend.ok("ADD_PROMPTS", {"prompts": prompts}, timeout=10)
                    acknowledged.append(name)

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(chooser.uniform(0.4, 1.0))
        studio.proc.kill()
        stop.set()
        studio.proc.wait(10)
        writer.join(15)
        integrity = count_rows(data / "studio" / "studio.db", "PRAGMA integrity_check")
        assert integrity == [("ok",)], integrity

    again = spawn("studio", data_dir=data)
    titles = collections.Counter()
    offset = 0
    while True:
        page = again.ok("GET_PROMPTS", {"status": "all", "limit": 1000, "offset": offset})
        titles.update(item["title"].rsplit("-", 1)[0] for item in page["items"])
        offset += len(page["items"])
        if offset >= page["total"]:
            break
    lost = [name for name in acknowledged if titles[name] != 300]
    half_done = [name for name, count in titles.items() if count not in (0, 300)]
    unanswered_kept = [name for name in in_flight if name not in acknowledged and titles[name] == 300]
    record(
        "fault.kill-sqlite",
        rounds=3,
        batches_acknowledged=len(acknowledged),
        acknowledged_lost=len(lost),
        half_written_batches=len(half_done),
        unanswered_batches_kept_whole=len(unanswered_kept),
        integrity_check="ok",
    )
    assert lost == []
    assert half_done == []


# -- SIGKILL of a client ------------------------------------------------------------------------

STDIO_CLIENT = """
import json, subprocess, sys, time
backend = subprocess.Popen([*sys.argv[2:], "stdio", "diag", "--data-dir", sys.argv[1]],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
backend.stdin.write(b'{"id": "c", "type": "COUNT", "payload": {"to": 100000, "interval": 0.01}}\\n')
backend.stdin.flush()
started = json.loads(backend.stdout.readline())
seen = [json.loads(backend.stdout.readline())["seq"] for _ in range(3)]
print(json.dumps({"backend_pid": backend.pid, "operation_id": started["data"]["operation_id"], "seen": seen}))
sys.stdout.flush()
time.sleep(3600)
"""


def test_sigkill_of_a_stdio_client_mid_operation_stops_its_backend_cleanly(spawn: Spawn, tmp_path: Path) -> None:
    """The front end dies (SIGKILL) while an operation runs: its backend sees EOF and shuts down gracefully."""
    data = tmp_path / "data"
    client = subprocess.Popen(
        [sys.executable, "-c", STDIO_CLIENT, str(data), *DESKBRIDGE], stdout=subprocess.PIPE, text=True
    )
    try:
        assert client.stdout is not None
        told = json.loads(client.stdout.readline())
        client.kill()
        killed_at = time.monotonic()
        wait_until(lambda: process_gone(told["backend_pid"]), 10, "the orphaned backend to exit")
        stopped_after = time.monotonic() - killed_at
    finally:
        client.kill()
        client.wait(10)
        if not process_gone(told["backend_pid"]):
            os.kill(told["backend_pid"], signal.SIGKILL)

    again = spawn("diag", data_dir=data)
    mine = [e for e in events_on_disk(again) if e.get("payload", {}).get("operation_id") == told["operation_id"]]
    record(
        "fault.kill-client-stdio",
        backend_stopped_after_s=round(stopped_after, 2),
        progress_events_kept=len(mine) - 1,
        terminal_status=mine[-1]["payload"]["status"],
    )
    assert stopped_after < 3, "the backend outlived its front end"
    assert set(told["seen"]) <= {e["seq"] for e in mine}, "progress the client saw is not on disk"
    assert mine[-1]["payload"]["status"] == "cancelled", mine[-1]
    assert mine[-1]["payload"]["error_code"] == "OPERATION_CANCELLED"


WEB_CLIENT = """
import json, sys, time
from websockets.sync.client import connect
ws = connect(sys.argv[1])
json.loads(ws.recv())  # SUBSCRIBED
ws.send('{"id": "c", "type": "COUNT", "payload": {"to": 40, "interval": 0.05}}')
while True:
    message = json.loads(ws.recv())
    if message.get("id") == "c":
        print(json.dumps({"operation_id": message["data"]["operation_id"]}))
        sys.stdout.flush()
        break
time.sleep(3600)
"""


def test_sigkill_of_a_websocket_client_mid_operation_loses_it_nothing(serve: Serve) -> None:
    """The client dies mid-operation: the server goes on, the operation completes, a new client finds it all."""
    server = serve("diag")
    url = f"{server.ws_url}?token={server.token}&client_id=victim&after=0"
    client = subprocess.Popen([sys.executable, "-c", WEB_CLIENT, url], stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout is not None
        operation = json.loads(client.stdout.readline())["operation_id"]
    finally:
        client.kill()
        client.wait(10)

    with server.http() as http:

        def connected() -> set[str]:
            return {c["client_id"] for c in http.get("/api/status").json()["clients"]}

        wait_until(lambda: "victim" not in connected(), 10, "the dead client to be dropped", every=0.1)

        def finished() -> list[dict[str, Any]]:
            events = http.get("/api/events", params={"after": 0, "limit": 1000}).json()["events"]
            return [e["payload"] for e in events if e.get("payload", {}).get("operation_id") == operation]

        wait_until(lambda: finished() and finished()[-1]["status"] != "in_progress", 15, "the operation's end", 0.1)
        ends = finished()
    record("fault.kill-client-web", server_alive=server.proc is not None and server.proc.poll() is None,
           operation_status=ends[-1]["status"], progress_events=len(ends) - 1)  # fmt: skip
    assert ends[-1]["status"] == "completed"
    assert ends[-1]["result"] == {"counted": 40}
    assert server.call("PING")["success"] is True


# -- disk full, read-only, corrupt, two backends ----------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (root only)."""
    with tmpfs(tmp_path / "small", "2m") as path:
        yield path


class FullDiskDownload:
    """Five clips of 600 kB downloaded one at a time into a 2 MiB disk: what the studio said and kept."""

    def __init__(self, standin: StandinControl, suno: StandinControl, token: str, tmp_path: Path, disk: Path) -> None:
        suno.settings(audio_bytes=600_000)
        clips = suno.seed(*({"title": f"Big {i}"} for i in range(5)))
        batch = {"clips": clips, "output_dir": str(disk), "account_name": "ada", "session_token": token, "parallel": 1}
        with studio_on(standin, tmp_path / "studio") as studio:
            studio.ok("CREATE_ACCOUNT", {"name": "ada"})
            operation = studio.ok("BATCH_DOWNLOAD", batch)["operation_id"]
            self.end = terminal(studio, operation, timeout=60)
            mine = [e["payload"] for e in studio.events if e.get("payload", {}).get("operation_id") == operation]
            self.told = {e["clip_id"] for e in mine if e.get("clip_status") == "downloaded"}
            self.clip_errors = [e for e in mine if e.get("clip_status") == "failed"]
            history = studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "ada"})["items"]
            self.history = {item["clip_id"]: Path(item["file_path"]) for item in history}
            self.alive = studio.ok("PING")["pong"]
        self.files = sorted(path.name for path in disk.iterdir())
        self.parts = [name for name in self.files if name.endswith(".part")]
        record("fault.disk-full-download", clips=5, told_downloaded=len(self.told), recorded=len(self.history),
               part_files_left=len(self.parts), batch_status=self.end["status"],
               batch_error=self.end.get("error"))  # fmt: skip


@pytest.fixture
def full_disk_download(
    standin: StandinControl, suno: StandinControl, token: str, tmp_path: Path, small_disk: Path
) -> FullDiskDownload:
    return FullDiskDownload(standin, suno, token, tmp_path, small_disk)


def test_disk_full_while_downloading_loses_no_finished_clip(full_disk_download: FullDiskDownload) -> None:
    """Every clip the client was told was downloaded is recorded and whole; nothing half-written is left."""
    run = full_disk_download
    assert run.told, "nothing fit on the disk"
    assert set(run.history) == run.told
    assert all(path.name in run.files for path in run.history.values())
    assert run.parts == []
    assert run.alive


def test_disk_full_while_downloading_fails_the_clips_that_do_not_fit_and_goes_on(
    full_disk_download: FullDiskDownload,
) -> None:
    run = full_disk_download
    assert run.end["status"] == "completed", run.end
    assert run.end["result"]["failed"] == 5 - len(run.told)
    assert all(e["error_code"] == "DOWNLOAD_FAILED" and "space" in e["error"].lower() for e in run.clip_errors)


def test_disk_full_while_appending_events_never_answers_success_for_events_it_did_not_store(tmp_path: Path) -> None:
    """Events fill a 1 MiB data disk: an EMIT answered success has all its events on disk; the others are
    answered EVENTS_NOT_STORED, their events wait in memory and are stored once there is room; the backend
    answers every command meanwhile."""
    with tmpfs(tmp_path / "small", "1m") as disk:
        backend = BackendProcess(["diag"], disk / "data")
        try:
            answers = [backend.call("EMIT", {"count": 500, "type": f"FILL_{i}"}, timeout=10) for i in range(40)]
            if os.statvfs(disk).f_bavail:
                pytest.skip("the tmpfs never filled: nothing was tested")
            alive = backend.call("PING", timeout=10)
            remount(disk, "rw,size=20m")
            time.sleep(RETRY_MAX + 0.5)  # the log tries again at least this often
            after = backend.call("EMIT", {"count": 1, "type": "AFTER"}, timeout=10)
            stored = collections.Counter(event["type"] for event in events_on_disk(backend))
        finally:
            backend.kill()
    told = [i for i, answer in enumerate(answers) if answer["success"]]
    refused = [answer for answer in answers if not answer["success"]]
    record("fault.disk-full-events", commands=len(answers), answered_success=len(told),
           answered_events_not_stored=len(refused),
           answered_success_but_not_stored=sum(1 for i in told if stored[f"FILL_{i}"] != 500),
           events_lost=sum(500 - stored[f"FILL_{i}"] for i in range(len(answers))))  # fmt: skip
    assert [i for i in told if stored[f"FILL_{i}"] != 500] == []
    assert refused, "the disk filled, yet every command was answered success"
    assert {answer["error_code"] for answer in refused} == {"EVENTS_NOT_STORED"}
    assert all("disk is full" in answer["error"] for answer in refused)
    assert alive["success"] is True, "a command that raised no event fails while the log is full"
    assert after["success"] is True
    assert [i for i in range(len(answers)) if stored[f"FILL_{i}"] != 500] == [], "held events were lost"


def test_a_read_only_data_dir_is_refused_at_start_with_a_clear_message(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "20m") as disk:
        backend = BackendProcess(["studio", "diag"], disk / "data")
        backend.ok("CREATE_ACCOUNT", {"name": "ada"})
        backend.ok("EMIT", {"count": 10})
        assert backend.close() == 0
        before = tree_digest(disk)
        remount(disk, "ro")
        status, first = start_failure(["studio", "diag"], disk / "data")
        unchanged = tree_digest(disk) == before
        remount(disk, "rw")
    record("fault.read-only", exit_status=status, message=first["error"], files_unchanged=unchanged)
    assert status == 1
    assert first["type"] == "BACKEND_ERROR"
    assert "Read-only file system" in first["error"]
    assert str(disk / "data") in first["error"]
    assert unchanged


def damage_garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 200)


def damage_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:8192])


DAMAGES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "studio.db overwritten with text": ("studio/studio.db", damage_garbage),
    "studio.db cut to 8 KiB": ("studio/studio.db", damage_truncate),
    "event log overwritten with text": ("events/diag+studio.db", damage_garbage),
    "event log cut to 8 KiB": ("events/diag+studio.db", damage_truncate),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with an account, 2000 prompts and 100 events, made once for the module."""
    data = tmp_path_factory.mktemp("pristine") / "data"
    backend = BackendProcess(["studio", "diag"], data)
    try:
        backend.ok("CREATE_ACCOUNT", {"name": "ada"})
        backend.ok("EMIT", {"count": 100})
        for _ in range(4):
            backend.ok("ADD_PROMPTS", {"prompts": [{"lyrics": "words " * 300}] * 500})
        assert backend.close() == 0
    finally:
        backend.kill()
    return data


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_corrupt_database_at_start_is_refused_clearly_and_kept(
    damage: tuple[str, Callable[[Path], None]], pristine: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(pristine, data)
    name, spoil = damage
    spoil(data / name)
    before = (data / name).read_bytes()
    status, first = start_failure(["studio", "diag"], data)
    kept = (data / name).read_bytes() == before
    record(f"fault.corrupt.{name.split('/')[0]}", message=first["error"], file_kept=kept)
    assert status == 1
    assert first["type"] == "BACKEND_ERROR"
    assert str(data / name) in first["error"]
    assert "not a usable SQLite database" in first["error"]
    assert kept, "the damaged file was changed"


@pytest.mark.parametrize("name", ["studio/studio.db", "events/diag+studio.db"])
def test_a_damaged_page_inside_a_database_is_found_at_start_and_the_file_kept(
    name: str, pristine: Path, tmp_path: Path
) -> None:
    """Damage that opening the file does not reveal (the header is whole): SQLite's quick_check finds it at
    start, so no command fails with "malformed" later and nothing is written into the damaged file."""
    data = tmp_path / "data"
    shutil.copytree(pristine, data)
    target = data / name
    image = bytearray(target.read_bytes())
    for at in range(3 * 4096, 4 * 4096):
        image[at] ^= 0xFF
    target.write_bytes(bytes(image))
    status, first = start_failure(["studio", "diag"], data)
    kept = target.read_bytes() == bytes(image)
    record(f"fault.corrupt.page.{name.split('/')[0]}", message=first["error"], file_kept=kept)
    assert status == 1
    assert first["type"] == "BACKEND_ERROR"
    assert str(target) in first["error"]
    assert "not a usable SQLite database" in first["error"]
    assert kept, "the damaged file was changed"


def test_a_second_backend_on_a_data_dir_in_use_refuses_whatever_the_doors_and_apps(
    serve: Serve, spawn: Spawn, tmp_path: Path
) -> None:
    """``serve`` holds the dir; ``stdio`` on it refuses, and so does an app set that overlaps another's."""
    data = tmp_path / "data"
    server = serve("studio", "diag", data_dir=data)
    server.call("CREATE_ACCOUNT", {"name": "ada"})
    status, first = start_failure(["diag"], data)
    both = spawn("guardian", data_dir=tmp_path / "other")
    status_overlap, overlap = start_failure(["studio", "guardian"], tmp_path / "other")
    record("fault.two-backends", message=first["error"], exit_status=status)
    assert status == 1
    assert first["type"] == "BACKEND_ERROR"
    assert "is in use by pid" in first["error"]
    assert str(server.proc.pid if server.proc else "") in first["error"]
    assert status_overlap == 1
    assert "guardian" in overlap["error"]
    assert both.ok("PING")["pong"] is True
    assert [a["name"] for a in server.call("GET_ACCOUNTS")["data"]] == ["ada"]


# -- the clock --------------------------------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("play"), st.integers(1, 1200)),
        st.tuples(st.just("sleep"), st.integers(30, 3600)),
        st.tuples(st.just("set clock"), st.integers(11, 3 * 86400).flatmap(lambda s: st.sampled_from([s, -s]))),
    ),
    min_size=1,
    max_size=8,
)


@settings(FUZZ_SETTINGS, max_examples=40)
@given(steps=steps)
def test_clock_jumps_during_accounting_neither_grant_nor_steal_time(
    steps: list[tuple[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Play, sleep and clock changes in any order: what counts is exactly the time played, on the right day.

    tests/guardian/test_timeline.py and test_usage.py pin single jumps; this
    drives arbitrary sequences through the whole guardian (database included).
    """
    clock = FakeClock(paris(2025, 8, 11, 10, 0))
    processes = FakeProcesses(clock)
    run = Harness(tmp_path_factory.mktemp("clock") / "guardian.db", {}, clock, processes)
    processes.launch()
    run.play(1)  # the poll that sees the game start
    played = 0
    for kind, amount in steps:
        if kind == "play":
            run.play(amount)
            played += amount
        elif kind == "sleep":
            clock.advance(amount)  # no tick: the machine is asleep
        else:
            clock.move_wall(amount)
            run.play(1)  # the next poll notices
            played += 1
    today = run.guardian.today("default_child")
    jumps = sum(1 for kind, _ in steps if kind == "set clock")
    sleeps = sum(1 for kind, _ in steps if kind == "sleep")
    assert today["date"] == "2025-08-11"
    assert played - sleeps <= today["seconds_used"] <= played
    assert len(run.of("clock_changed")) == jumps
    run.db.close()
