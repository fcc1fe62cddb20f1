"""Keyset paging for every listing that grows with the user's data.

A page ends at ``limit`` items or at ``MAX_BYTES`` of items, whichever comes
first, so no answer outgrows a front end or a line limit, however long the
records are. ``next_cursor`` is opaque: it holds the sort key of the last item
sent and the listing it came from, and the next page starts strictly after
that key (keyset, not offset). Records added while a client pages therefore
never shift a page: each existing record is sent once, none is skipped.

Without ``limit`` and ``cursor`` (the seed's payloads) a listing answers every
item while they fit ``MAX_ITEMS`` and ``MAX_BYTES``; past that bound the answer
is the first page, with ``has_more`` and ``next_cursor``.

A listing read often and long (the creation history) can have SQLite write each
item's JSON (:func:`json_page`): the page is then spliced into the answer as it
is, with no Python object made per item (bench/scale.py, "scale").
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Final, Generic, TypeVar

import msgspec

from deskbridge.payloads import Payload
from deskbridge.studio.fields import invalid

MAX_ITEMS: Final = 1_000
"""The most items one page holds, and the default ``limit``."""
MAX_BYTES: Final = 1 << 20
"""The most JSON bytes of items one page holds (a page always holds at least one item)."""

Limit = Annotated[int, msgspec.Meta(ge=1, le=MAX_ITEMS)]
Cursor = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000, pattern=r"^[A-Za-z0-9_-]+\Z")]

T = TypeVar("T")
Row = Any
Query = Callable[[str, list[Any], int], Sequence[Row]]
"""Rows of a listing: given a condition to AND in, its parameters, and how many rows at most."""

_encode = msgspec.json.Encoder().encode


class Paging(Payload):
    """The paging fields of a listing's payload."""

    limit: Limit | None = None
    """Items per page (at most 1,000); omitted: every item while the answer fits the bound."""
    cursor: Cursor | None = None
    """A ``next_cursor`` from the previous page of the same listing."""

    @property
    def paged(self) -> bool:
        return self.limit is not None or self.cursor is not None


class Page(msgspec.Struct, Generic[T]):
    """One page of a listing; ``has_more`` says whether ``next_cursor`` leads to another."""

    items: list[T]
    limit: int
    has_more: bool
    next_cursor: str | None


class Keyset(msgspec.Struct, frozen=True):
    """A listing's order: the columns that sort it (the last one unique), all ascending or all descending."""

    listing: str
    columns: tuple[str, ...]
    """SQL expressions, e.g. ``("r.created_at", "r.id")``."""
    keys: tuple[str, ...]
    """The names of those columns in a result row."""
    descending: bool = False

    @property
    def order_by(self) -> str:
        direction = " DESC" if self.descending else ""
        return "ORDER BY " + ", ".join(column + direction for column in self.columns)

    def after(self, cursor: str | None) -> tuple[str, list[Any]]:
        """The condition that keeps rows strictly after ``cursor`` (``"1"`` for the first page)."""
        if cursor is None:
            return "1", []
        return self.after_key(self._decode(cursor))

    def after_key(self, key: Sequence[Any]) -> tuple[str, list[Any]]:
        """The condition that keeps rows strictly after the row whose sort key is ``key``."""
        columns = ", ".join(self.columns)
        marks = ", ".join("?" * len(key))
        return f"({columns}) {'<' if self.descending else '>'} ({marks})", list(key)

    def key(self, row: Row) -> list[Any]:
        return [row[name] for name in self.keys]

    def cursor(self, row: Row) -> str:
        return self.cursor_at(self.key(row))

    def cursor_at(self, key: Sequence[Any]) -> str:
        return base64.urlsafe_b64encode(_encode([self.listing, *key])).rstrip(b"=").decode()

    def _decode(self, cursor: str) -> list[Any]:
        try:
            value = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, msgspec.DecodeError):
            value = None
        if (
            not isinstance(value, list)
            or len(value) != len(self.keys) + 1
            or value[0] != self.listing
            or not all(isinstance(part, str) or _is_sqlite_integer(part) for part in value[1:])
        ):
            raise invalid("$.cursor", f"not a cursor of {self.listing}: send a next_cursor this listing gave")
        return value[1:]


def _is_sqlite_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


class JsonPage(msgspec.Struct):
    """A :class:`Page` whose items SQLite wrote as JSON (:func:`json_page`).

    Encoded, it is the ``Page`` of the same items: the same keys in the same
    order, the same values. A command that returns one declares the ``Page``
    it stands for (``Commands.command(..., data=...)``), so the schema stays exact.
    """

    items: msgspec.Raw
    """A JSON array, as SQLite wrote it."""
    limit: int
    has_more: bool
    next_cursor: str | None


def page(query: Query, keyset: Keyset, paging: Paging, build: Callable[[Row], T]) -> Page[T]:
    """The page ``paging`` asks for: ``query`` is asked for one row more than fits, to know if more follow."""
    limit = paging.limit or MAX_ITEMS
    condition, params = keyset.after(paging.cursor)
    rows = query(condition, params, limit + 1)
    items = [build(row) for row in rows[:limit]]
    if len(_encode(items)) > MAX_BYTES:  # rare: measure item by item only then
        del items[_fitting([len(_encode(item)) for item in items]) :]
    has_more = len(items) < len(rows)
    return Page(items, limit, has_more, keyset.cursor(rows[len(items) - 1]) if has_more else None)


def json_page(query: Query, keyset: Keyset, paging: Paging) -> JsonPage:
    """As :func:`page`, from rows of an item's JSON (UTF-8 bytes) and its row id, the keyset's last column.

    The keyset's other keys are fields of the items: the cursor reads them from the last item sent, instead of
    every row carrying them out of SQLite (a tenth of a history page's cost).
    """
    limit = paging.limit or MAX_ITEMS
    condition, params = keyset.after(paging.cursor)
    rows = query(condition, params, limit + 1)
    items = [row[0] for row in rows[:limit]]
    if sum(map(len, items)) + len(items) > MAX_BYTES:  # rare: measure item by item only then
        del items[_fitting([len(item) for item in items]) :]
    has_more = len(items) < len(rows)
    cursor = None
    if has_more:
        head = keyset.keys[:-1]
        fields = msgspec.structs.astuple(msgspec.json.decode(items[-1], type=_fields(head))) if head else ()
        cursor = keyset.cursor_at([*fields, rows[len(items) - 1][1]])
    return JsonPage(msgspec.Raw(b"[" + b",".join(items) + b"]"), limit, has_more, cursor)


@functools.cache
def _fields(names: tuple[str, ...]) -> type[msgspec.Struct]:
    """The type that reads these fields of an item's JSON (and skips the rest)."""
    return msgspec.defstruct("SortKey", [(name, str | int) for name in names])


def _fitting(sizes: Sequence[int]) -> int:
    """How many leading items of these JSON sizes fit ``MAX_BYTES`` with their commas (at least one)."""
    total = 0
    for count, size in enumerate(sizes):
        total += size + 1
        if count and total > MAX_BYTES:
            return count
    return len(sizes)


def listing(found: Page[T], paging: Paging) -> list[T] | Page[T]:
    """The seed's shape, a plain list, while the whole listing fits one page and no paging was asked for."""
    return found.items if not paging.paged and not found.has_more else found
