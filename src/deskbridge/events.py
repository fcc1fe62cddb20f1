"""The event log: every event gets a ``seq`` and is on disk before anyone sees it.

Appends made during one turn of the event loop are committed together in one
transaction at the end of the turn, then handed to the subscribers in ``seq``
order, so durability costs one commit per burst rather than one per event
(bench/web.py measures it; a writer thread was tried and lost: the GIL
hand-offs of ``executemany`` cost more than the commit it overlapped).

The log is named by an ``epoch`` that changes whenever the file is created
anew, or is found to have lost commits it once had (:mod:`deskbridge.logmark`;
or a client resumes from a ``seq`` past its head), so a client can tell "you
missed nothing" from "your cursor belongs to a log that is gone"
(:meth:`EventLog.resume`): no ``seq`` is ever given out twice in one epoch. Old events are trimmed by age,
count and the file's size (:class:`Retention`), but never past what a known consumer has not
acknowledged; a terminal operation event is spared by age, not by count or size.

When the store refuses a commit (disk full, I/O error), nothing is dropped:
the batch stays in memory, in order, and a timer tries again with backoff
until it is stored (at most ``max_held`` events are held; past that, new ones
are refused with :class:`EventLogFull`, except an operation's terminal event). Delivery waits for the commit, so no
one is ever shown an event that a crash could take back; a command's answer
knows whether the events it raised are stored through :class:`Raised`.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import logging
import math
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Final

import msgspec

from deskbridge import closemark, protocol, store
from deskbridge.clock import SYSTEM_CLOCK, Clock
from deskbridge.config import convert
from deskbridge.logmark import LogMark

log = logging.getLogger("deskbridge.events")

Deliver = Callable[[list[bytes]], None]
Schedule = Callable[[Callable[[], object]], object]
Later = Callable[[float, Callable[[], object]], asyncio.Handle]

DEFAULT_PAGE: Final = 1000
DEFAULT_MAX_HELD: Final = 100_000
RETRY_FIRST: Final = 0.05
RETRY_MAX: Final = 2.0

_MIGRATIONS: Final = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    """,
    """
    ALTER TABLE events ADD COLUMN keep INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE cursors (client_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
    """,
]


class Retention(msgspec.Struct, frozen=True):
    """How much history the log keeps; ``None`` means no limit of that kind.

    A consumer (a client that acknowledged with a ``client_id``) holds back
    trimming until it acknowledges, unless it has been silent longer than
    ``consumer_ttl`` seconds.
    """

    max_age: float | None = 7 * 86400.0
    max_count: int | None = 100_000
    max_bytes: int | None = 256 * 2**20
    """The log file's pages in use; past it, the oldest events go (to 90% of it), as past ``max_count``."""
    consumer_ttl: float = 7 * 86400.0
    max_consumers: int = 1000
    """Only the consumers heard from most recently hold trimming back: a program inventing client ids cannot
    hold the log for a week."""
    trim_every: int = 1000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Retention:
        """From the config file's ``"events"`` section; a ``ConfigError`` naming a bad key."""
        if "events" not in config:  # the defaults, without building the section's validator at every start
            return _DEFAULT_RETENTION
        section = convert(config.get("events", {}), _RetentionSection, owner="events", where="$.events")
        days = section.max_age_days
        megabytes = section.max_megabytes
        return cls(
            max_age=None if days is None else days * 86400,
            max_count=section.max_count,
            max_bytes=None if megabytes is None else int(megabytes * 2**20),
            consumer_ttl=section.consumer_ttl_days * 86400,
            max_consumers=section.max_consumers,
        )


_DEFAULT_RETENTION: Final = Retention()
_PAGE_PRAGMAS: Final = ("page_count", "freelist_count", "page_size")
_SIZE_AFTER_TRIM: Final = 0.9


class _RetentionSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    max_age_days: Annotated[float, msgspec.Meta(gt=0)] | None = (
        _DEFAULT_RETENTION.max_age / 86400 if _DEFAULT_RETENTION.max_age else None
    )
    """``null``: no age limit."""
    max_count: Annotated[int, msgspec.Meta(ge=1)] | None = _DEFAULT_RETENTION.max_count
    """``null``: no count limit."""
    max_megabytes: Annotated[float, msgspec.Meta(ge=1)] | None = (
        _DEFAULT_RETENTION.max_bytes / 2**20 if _DEFAULT_RETENTION.max_bytes else None
    )
    """MiB of the file's pages in use; ``null``: no size limit."""
    consumer_ttl_days: Annotated[float, msgspec.Meta(gt=0)] = _DEFAULT_RETENTION.consumer_ttl / 86400
    max_consumers: Annotated[int, msgspec.Meta(ge=1)] = _DEFAULT_RETENTION.max_consumers


class Resumed(msgspec.Struct, frozen=True):
    """The answer to a resume: whether the log can prove nothing was missed, and what followed the cursor.

    ``recovered`` is false when the epoch is unknown (the cursor then restarts
    at 0 in the current epoch) or when history after the cursor was trimmed:
    the client should reload its state. ``last_seq`` is the cursor to send
    next time; ``more`` says that a page limit cut the answer short; ``head``
    is the newest ``seq`` on disk; ``after`` is the cursor the answer starts
    from (the client's, or 0 in a new epoch).
    """

    recovered: bool
    epoch: str
    events: list[bytes]
    last_seq: int
    more: bool
    head: int
    after: int
    seqs: list[int]
    """The ``seq`` of each of ``events``."""

    def as_data(self) -> dict[str, Any]:
        """The payload shape every door answers with (events inlined as raw JSON)."""
        return {
            "recovered": self.recovered,
            "epoch": self.epoch,
            "events": [msgspec.Raw(body) for body in self.events],
            "last_seq": self.last_seq,
            "more": self.more,
            "head": self.head,
            "after": self.after,
        }


_Row = tuple[int, str, int, bytes, int]


class EventLogFull(Exception):
    """The store refuses commits and ``max_held`` events already wait in memory: this one is not taken."""


class Raised:
    """What the command running in this context raised: the last ``seq`` it was given, and how many were refused.

    The router puts one in the context of every handler it calls; its answer
    is a success only once those events are stored.
    """

    __slots__ = ("last_seq", "refused")

    def __init__(self) -> None:
        self.last_seq = 0
        self.refused = 0


RAISED: Final[contextvars.ContextVar[Raised | None]] = contextvars.ContextVar("deskbridge_raised", default=None)


class Subscription:
    """A live feed of encoded events, in ``seq`` order, until cancelled."""

    __slots__ = ("_log", "deliver")

    def __init__(self, log: EventLog, deliver: Deliver) -> None:
        self._log = log
        self.deliver = deliver

    def cancel(self) -> None:
        self._log._subscribers.pop(self, None)


def _disk_full(failure: BaseException | None) -> bool:
    if isinstance(failure, sqlite3.Error):
        return getattr(failure, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return isinstance(failure, OSError) and failure.errno == errno.ENOSPC


def _is_terminal(message: dict[str, Any]) -> bool:
    payload = message.get("payload")
    return isinstance(payload, dict) and payload.get("status") in protocol.TERMINAL_STATUSES


class EventLog:
    """Single-threaded: call it from the event loop (:class:`EventSink` hops threads for you).

    ``last_seq`` is the last ``seq`` given out; ``committed_seq`` the last one
    on disk. While a subscriber's ``deliver`` runs, ``committed_seq`` is the
    ``seq`` of the last body it was handed (a batch's ``seq`` values are
    consecutive). ``failure`` is the store's error while it refuses commits;
    appended events then wait in memory and ``retry_later`` schedules the
    next attempt (without it, :meth:`retry` is up to the caller).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        schedule: Schedule,
        clock: Clock = SYSTEM_CLOCK,
        retention: Retention | None = None,
        retry_later: Later | None = None,
        max_held: int = DEFAULT_MAX_HELD,
        boot: str | None = None,
    ) -> None:
        self.path = Path(path)
        self._schedule = schedule
        self._clock = clock
        self.retention = retention or Retention()
        self._trimmed_at = -self.retention.trim_every
        self._pending: list[_Row] = []
        self._acks: dict[str, int] = {}
        self._flush_scheduled = False
        self._retry_later = retry_later
        self._retry_handle: asyncio.Handle | None = None
        self._retry_delay = 0.0
        self.max_held = max_held
        self.refused = 0
        """Events not taken because ``max_held`` were waiting (a count that only grows)."""
        self._refused_in_outage = 0
        self.failure: sqlite3.Error | OSError | None = None
        self._subscribers: dict[Subscription, None] = {}
        self._waiters: dict[asyncio.Future[None], int] = {}
        """Who waits for which ``seq`` to be committed; a waiter leaves when its wait ends, however it ends."""
        self._closed = False
        self._db = store.connect(path)
        with store.named_if_damaged(self.path, self._db):  # what opening reads, the trim included, as quick_check
            store.migrate(self._db, _MIGRATIONS, name=f"event log {path}")
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            if "epoch" not in meta:
                meta["epoch"] = uuid.uuid4().hex
                self._db.execute("INSERT INTO meta VALUES ('epoch', ?)", (meta["epoch"],))
            self.epoch: str = meta["epoch"]
            self._floor = int(meta.get("floor", 0))
            (last,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
            self.last_seq: int = max(last, self._floor)
            self.committed_seq: int = self.last_seq
            self._mark = LogMark(self.path, boot=boot)
            lost = self._mark.lost(self.epoch, self.last_seq)
            if lost is not None:
                self._new_epoch(lost)
            self._write_mark(clean=False)
            self._commit([], {})

    # -- appending ----------------------------------------------------------

    def append(self, message: dict[str, Any]) -> int:
        """Give ``message`` the next ``seq`` (and a ``timestamp`` in ms if it has none); it is committed, then
        delivered, at the end of this turn."""
        if self._closed:
            raise RuntimeError("event log is closed")
        terminal = _is_terminal(message)
        if self.failure is not None and len(self._pending) >= self.max_held and not terminal:
            # An operation's end is always taken: without it a client would wait for it forever.
            if not self._refused_in_outage:  # said once per outage, not once per event
                log.error("events are being dropped: %d already wait to be stored", len(self._pending))
            self.refused += 1
            self._refused_in_outage += 1
            raise EventLogFull(f"{len(self._pending)} events already wait to be stored ({self.failure})")
        self.last_seq += 1
        seq = self.last_seq
        message["seq"] = seq
        time_ms = int(self._clock.time() * 1000)
        message.setdefault("timestamp", time_ms)  # every event says when, whether its app did or not
        body = protocol.encode(message)
        row = (seq, str(message.get("type", "")), time_ms, body, int(terminal))
        self._pending.append(row)
        self._schedule_flush()
        return seq

    def acknowledge(self, client_id: str, last_seq: int) -> None:
        """``client_id`` has every event up to ``last_seq`` (cumulative); stored with the next commit."""
        if self._closed:
            return
        seq = min(last_seq, self.committed_seq)
        if seq > self._acks.get(client_id, -1):
            self._acks[client_id] = seq
            self._schedule_flush()

    def acknowledged(self, client_id: str) -> int | None:
        """The last ``seq`` ``client_id`` acknowledged, if it ever did (within ``consumer_ttl``)."""
        if client_id in self._acks:
            return self._acks[client_id]
        with store.damage_named(self.path):
            row = self._db.execute("SELECT last_seq FROM cursors WHERE client_id = ?", (client_id,)).fetchone()
        return None if row is None else int(row[0])

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled and self.failure is None:
            self._flush_scheduled = True
            self._schedule(self.flush)

    def flush(self) -> bool:
        """Commit what was appended, then deliver it; False if it is not stored (while the store refuses,
        only :meth:`retry` tries again, so that a failing disk costs one attempt per backoff step)."""
        self._flush_scheduled = False
        if self.failure is not None:
            return False
        return self._store()

    def settle(self) -> None:
        """Commit what was appended, now, before a door writes anything: a response never leaves before the
        events its command raised are on disk, so a client that read "done" finds them after a kill -9.
        Every door calls this just before it writes."""
        if self.last_seq != self.committed_seq:
            self.flush()

    def retry(self) -> bool:
        """Try again to store what is held; True once everything appended is stored."""
        self._retry_handle = None
        return self._store()

    def _store(self) -> bool:
        rows, acks = self._pending, self._acks
        if self._closed or (not rows and not acks):
            return not rows
        try:
            self._commit(rows, acks)
        except (sqlite3.Error, OSError) as exc:
            self._refused(exc)
            return False
        self._pending, self._acks = [], {}
        if self.failure is not None:
            log.warning("the event log stores events again (%d were held in memory)", len(rows))
            self.failure, self._retry_delay, self._refused_in_outage = None, 0.0, 0
        if not rows:
            return True
        self.committed_seq = rows[-1][0]
        bodies = [row[3] for row in rows]
        for subscription in list(self._subscribers):
            try:
                subscription.deliver(bodies)
            except Exception:
                log.exception("an event subscriber failed")
        if self._waiters:
            self._wake_waiters()
        return True

    def _refused(self, exc: sqlite3.Error | OSError) -> None:
        if self.failure is None:
            log.error("the event log cannot store events (%s): they are held in memory and retried", exc)
        closemark.damage_seen(exc)
        self.failure = exc
        self._retry_delay = min(RETRY_MAX, max(RETRY_FIRST, self._retry_delay * 2))
        if self._retry_later is not None and self._retry_handle is None:
            self._retry_handle = self._retry_later(self._retry_delay, self.retry)

    def why_held(self) -> str:
        """Why appended events wait in memory, in words for a command's answer: the store's error, and what
        the wait is for (only a full disk is waiting for room on the disk)."""
        held = self.last_seq - self.committed_seq
        failure = self.failure
        if isinstance(failure, sqlite3.IntegrityError):
            return (
                f"the event log refuses events ({failure}): another process writes to it; "
                f"{held} wait in memory and are retried"
            )
        if _disk_full(failure):
            return f"the event log cannot store events ({failure}); {held} wait in memory for room on the disk"
        return f"the event log cannot store events ({failure}); {held} wait in memory and are retried"

    def _wake_waiters(self) -> None:
        for future, seq in self._waiters.items():
            if seq <= self.committed_seq and not future.done():
                future.set_result(None)

    async def wait_committed(self, seq: int | None = None) -> None:
        """Return once every event up to ``seq`` (default: every one appended so far) is on disk."""
        target = self.last_seq if seq is None else seq
        if target <= self.committed_seq:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters[future] = target
        try:
            await future
        finally:  # a long-poll that timed out or whose client left waits no more
            self._waiters.pop(future, None)

    def _commit(self, rows: list[_Row], acks: dict[str, int]) -> None:
        now_ms = int(self._clock.time() * 1000)
        db = self._db
        db.execute("BEGIN")
        try:
            if rows:
                db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
            if acks:
                db.executemany(
                    "INSERT INTO cursors VALUES (?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
                    "last_seq = MAX(last_seq, excluded.last_seq), updated_ms = excluded.updated_ms",
                    [(client_id, seq, now_ms) for client_id, seq in acks.items()],
                )
            if self.last_seq - self._trimmed_at >= self.retention.trim_every:
                self._trim(db, now_ms)
                self._trimmed_at = self.last_seq
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a COMMIT that failed (disk full) may have rolled back already
                db.execute("ROLLBACK")
            raise

    def _trim(self, db: sqlite3.Connection, now_ms: int) -> None:
        """Age spares terminal operation events (a client back after a week still learns how its operation
        ended); the count does not, so that ``max_count`` bounds the log however many operations finish."""
        policy = self.retention
        cutoff = counted = 0
        (top,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        if policy.max_count is not None:
            cutoff = counted = top - policy.max_count
        if policy.max_bytes is not None:
            counted = max(counted, self._past_bytes(db, top, policy.max_bytes))
            cutoff = max(cutoff, counted)
        if policy.max_age is not None:
            # Time grows with seq, so this scans only the rows about to go (no index to pay for on insert).
            young = db.execute(
                "SELECT seq - 1 FROM events WHERE seq > ? AND time_ms >= ? ORDER BY seq LIMIT 1",
                (self._floor, now_ms - int(policy.max_age * 1000)),
            ).fetchone()
            cutoff = max(cutoff, young[0] if young else top)
        alive_since = now_ms - int(policy.consumer_ttl * 1000)
        db.execute("DELETE FROM cursors WHERE updated_ms < ?", (alive_since,))
        newest = "SELECT client_id FROM cursors ORDER BY updated_ms DESC LIMIT ?"
        db.execute(f"DELETE FROM cursors WHERE client_id NOT IN ({newest})", (policy.max_consumers,))
        (held,) = db.execute("SELECT MIN(last_seq) FROM cursors").fetchone()
        if held is not None:
            cutoff, counted = min(cutoff, held), min(counted, held)
        if cutoff > self._floor:
            self._floor = cutoff
            db.execute("INSERT OR REPLACE INTO meta VALUES ('floor', ?)", (str(cutoff),))
            db.execute("DELETE FROM events WHERE seq <= ? AND keep = 0", (cutoff,))
        if counted > 0:
            db.execute("DELETE FROM events WHERE seq <= ? AND keep = 1", (counted,))

    def _past_bytes(self, db: sqlite3.Connection, top: int, limit: int) -> int:
        """The seq up to which events go for the file's pages in use to fit ``limit``.

        Estimated from the average size of the events alive (their seqs run from the floor to ``top``): no
        scan of the table, so the check costs the same at 10^3 events as at 10^7. Past the limit, the log goes
        down to :data:`_SIZE_AFTER_TRIM` of it: room for the pages no event frees (the schema, the cursors, a
        page half emptied) and for the appends until the next trim.
        """
        pages, free, page_size = (int(db.execute(f"PRAGMA {name}").fetchone()[0]) for name in _PAGE_PRAGMAS)
        used = (pages - free) * page_size
        alive = top - self._floor
        if used <= limit or alive <= 0:
            return 0
        return self._floor + math.ceil((used - limit * _SIZE_AFTER_TRIM) * alive / used)

    def trim(self) -> None:
        """Apply the retention policy now (it also runs every ``trim_every`` appends), after storing what was
        appended and acknowledged meanwhile: an acknowledgement still in memory lets go of what it covers."""
        self.flush()
        self._trimmed_at = -self.retention.trim_every
        self._commit([], {})

    # -- reading ------------------------------------------------------------

    def subscribe(self, deliver: Deliver) -> Subscription:
        """``deliver`` gets every batch committed from now on, in order."""
        subscription = Subscription(self, deliver)
        self._subscribers[subscription] = None
        return subscription

    def read(self, after: int, limit: int = DEFAULT_PAGE) -> list[bytes]:
        """Committed events with ``seq > after``, oldest first."""
        return [body for _, body in self._rows(after, limit)]

    def _rows(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        with store.damage_named(self.path):
            rows = self._db.execute("SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
            return [(seq, body) for seq, body in rows]

    def count_after(self, after: int, types: Iterable[str] = ()) -> dict[str, int]:
        """Committed events with ``seq > after``: ``{"events": n, <type>: n for each of types}``."""
        wanted = list(types)
        counts = dict.fromkeys(wanted, 0)
        with store.damage_named(self.path):
            rows = self._db.execute(
                "SELECT type, COUNT(*) FROM events WHERE seq > ? GROUP BY type", (after,)
            ).fetchall()
        total = 0
        for kind, count in rows:
            total += count
            if kind in counts:
                counts[kind] = count
        return {"events": total, **counts}

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def floor(self) -> int:
        """Every event with ``seq <= floor`` may have been trimmed (terminal ones stay, up to ``max_count``)."""
        return self._floor

    def resume(self, epoch: str | None, after: int, limit: int = DEFAULT_PAGE) -> Resumed:
        """What a client that last saw ``after`` in ``epoch`` missed (``epoch=None``: trust the cursor)."""
        head = self.committed_seq
        recovered = True
        cursor = max(0, after)
        if epoch == self.epoch and cursor > head:
            # A client saw this seq in this epoch: the log lost commits, and its next events would reuse numbers.
            self._new_epoch(f"a client resumes from seq {cursor}, past the log's head {head}")
        if (epoch is not None and epoch != self.epoch) or cursor > head:
            recovered, cursor = False, 0
        if cursor < self._floor:
            recovered = False
        rows = self._rows(cursor, limit + 1)
        more = len(rows) > limit
        del rows[limit:]
        last_seq = rows[-1][0] if rows else head
        return Resumed(
            recovered, self.epoch, [body for _, body in rows], last_seq, more, head, cursor, [seq for seq, _ in rows]
        )

    def _new_epoch(self, why: str) -> None:
        """Name the log anew: every cursor of the old epoch is answered ``recovered: false``."""
        self.epoch = uuid.uuid4().hex
        log.warning("the event log %s starts a new epoch %s: %s", self.path, self.epoch, why)
        try:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('epoch', ?)", (self.epoch,))
        except sqlite3.Error as exc:  # held for this run; a restart on the old epoch meets the same check
            log.error("the event log %s cannot record its new epoch: %s", self.path, exc)
            closemark.damage_seen(exc)

    def _write_mark(self, *, clean: bool) -> None:
        try:
            self._mark.write(self.epoch, self.committed_seq, clean=clean)
        except OSError as exc:  # the log works without it; only the check at the next start is lost
            log.warning("cannot write %s: %s", self._mark.path, exc)

    # -- closing ------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        try:
            if not self.retry() and self._pending:
                log.error("%d events were never stored (%s): nobody was shown them", len(self._pending), self.failure)
            self._write_mark(clean=True)
        finally:
            self._closed = True
            if self._retry_handle is not None:
                self._retry_handle.cancel()
            self._subscribers.clear()
            for future in self._waiters:
                if not future.done():
                    future.cancel()
            store.close(self._db, self.path)


class EventSink:
    """What apps and operations emit through: safe to call from any thread."""

    def __init__(self, log: EventLog, loop: asyncio.AbstractEventLoop) -> None:
        self._log = log
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def emit(self, message: dict[str, Any]) -> None:
        raised = RAISED.get()
        if threading.get_ident() == self._loop_thread:
            self._append(message, raised)
        else:
            self._loop.call_soon_threadsafe(self._append, message, raised)

    def _append(self, message: dict[str, Any], raised: Raised | None) -> None:
        try:
            seq = self._log.append(message)
        except EventLogFull:
            if raised is not None:
                raised.refused += 1
            return
        if raised is not None:
            raised.last_seq = seq

    def progress(self, event_type: str, payload: dict[str, Any]) -> None:
        """A seed-000 progress event (``"id": "progress-event"``) of ``event_type``."""
        self.emit(protocol.progress_event(event_type, payload))

    async def committed(self) -> None:
        """Wait until everything emitted so far from the loop thread is on disk."""
        await self._log.wait_committed()
