"""notes: the example app of docs/apps.md, a few notes kept in one JSON file.

* ``ADD_NOTE`` (a command) stores a note and raises a ``NOTE_ADDED`` event;
* ``GET_NOTE`` answers one note, or the app's own error code ``NOTE_NOT_FOUND``;
* ``LIST_NOTES`` is also served as ``GET /notes`` on the web door;
* ``EXPORT_NOTES`` is an operation: it reports progress and can be cancelled.
"""

from __future__ import annotations

import asyncio
import enum
import json
from pathlib import Path
from typing import Annotated, TypedDict

import msgspec

from deskbridge.app import AppContext, AppSpec, HttpEndpoint
from deskbridge.errors import CommandError, ErrorCodeInfo
from deskbridge.operations import Operation
from deskbridge.payloads import Payload
from deskbridge.router import Commands


class NotesError(enum.StrEnum):
    NOTE_NOT_FOUND = "NOTE_NOT_FOUND"


class AddNote(Payload):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class NoteRef(Payload):
    id: Annotated[int, msgspec.Meta(ge=1)]


class Export(Payload):
    seconds_per_note: Annotated[float, msgspec.Meta(ge=0, le=10)] = 0.1
    """How long writing one note takes (a stand-in for real work)."""


class Note(msgspec.Struct):
    id: int
    text: str


class Exported(TypedDict):
    path: str


class ExportProgress(TypedDict):
    progress: int
    message: str


class Notes:
    """The notes, in ``notes.json`` under the app's own data directory."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._notes = msgspec.json.decode(path.read_bytes(), type=list[Note]) if path.exists() else []

    def add(self, text: str) -> Note:
        note = Note(max((n.id for n in self._notes), default=0) + 1, text)
        self._notes.append(note)
        self._path.write_bytes(msgspec.json.encode(self._notes))
        return note

    def get(self, note_id: int) -> Note:
        for note in self._notes:
            if note.id == note_id:
                return note
        raise CommandError(NotesError.NOTE_NOT_FOUND, f"no note {note_id}", {"id": note_id})

    def all(self) -> list[Note]:
        return list(self._notes)


def build(context: AppContext) -> Commands:
    notes = Notes(context.data_dir / "notes.json")
    commands = Commands()

    @commands.command("ADD_NOTE")
    async def add_note(payload: AddNote) -> Note:
        """Store a note; every client hears of it through a NOTE_ADDED event."""
        note = notes.add(payload.text)
        context.events.emit({"type": "NOTE_ADDED", "payload": {"id": note.id, "text": note.text}})
        return note

    @commands.command("GET_NOTE")
    async def get_note(payload: NoteRef) -> Note:
        """One note, or NOTE_NOT_FOUND."""
        return notes.get(payload.id)

    @commands.command("LIST_NOTES")
    async def list_notes() -> list[Note]:
        """Every note, oldest first."""
        return notes.all()

    @commands.command("EXPORT_NOTES", result=Exported, progress=ExportProgress)
    async def export_notes(payload: Export) -> Operation:
        """Write every note to export.json, one at a time, reporting progress; CANCEL_OPERATION stops it."""

        async def run(op: Operation) -> Exported:
            todo = notes.all()
            for done, _ in enumerate(todo, 1):
                await asyncio.sleep(payload.seconds_per_note)  # cancelling the operation cancels this
                op.progress(progress=round(100 * done / len(todo)), message=f"{done}/{len(todo)}")
            target = context.data_dir / "export.json"
            target.write_text(json.dumps([msgspec.to_builtins(n) for n in todo]))
            return {"path": str(target)}

        return context.operations.prepare("EXPORT_NOTES", "EXPORT_PROGRESS", run)

    return commands


app = AppSpec(
    name="notes",
    version="0.1.0",
    description="Notes: the example app of docs/apps.md",
    build=build,
    event_types=("NOTE_ADDED", "EXPORT_PROGRESS"),
    http_endpoints=(HttpEndpoint("GET", "/notes", "LIST_NOTES"),),
    error_codes=(ErrorCodeInfo(NotesError.NOTE_NOT_FOUND, "no note has this id", 404),),
)
