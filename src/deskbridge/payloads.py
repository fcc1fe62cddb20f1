"""Strict payloads: an unknown field is an error that names it and the field it most likely meant.

A typo such as ``"emial"`` must not create an account without an email, so
every ``msgspec.Struct`` a handler accepts (and every Struct nested in it)
forbids unknown fields; :func:`require_strict` refuses, at registration, a
payload type that would let one through. :class:`Payload` is the base that
makes a Struct strict. A plain ``dict`` payload stays open on purpose (diag's
``ECHO``), and so does a record an outside service made (a Suno clip a front
end hands back as it got it), marked :data:`FOREIGN`: its many other fields
are the service's, not typos.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

import msgspec
import msgspec.inspect as mi

from deskbridge import protocol


class Payload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of a command's payload: keyword fields, unknown ones refused."""


FOREIGN: Final = msgspec.Meta(extra={"foreign": True})
"""``Annotated[Clip, FOREIGN]``: a record as an outside service wrote it; fields it has beyond the Struct's
are ignored, not refused."""


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name ``word`` was most likely meant to be (case and ``-``/``_`` aside), or None."""
    choices = {name.upper().replace("-", "_"): name for name in known}
    found = difflib.get_close_matches(word.upper().replace("-", "_"), choices, n=1, cutoff=0.6)
    return choices[found[0]] if found else None


def _structs(info: mi.Type, seen: set[type]) -> Iterator[mi.StructType]:
    if isinstance(info, mi.StructType):
        if info.cls in seen:
            return
        seen.add(info.cls)
        yield info
        for f in info.fields:
            yield from _structs(f.type, seen)
    elif isinstance(info, mi.UnionType):
        for member in info.types:
            yield from _structs(member, seen)
    elif isinstance(info, mi.TupleType):
        for member in info.item_types:
            yield from _structs(member, seen)
    elif isinstance(info, mi.DictType):
        yield from _structs(info.value_type, seen)
    elif isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        yield from _structs(info.item_type, seen)
    elif isinstance(info, mi.Metadata) and not (info.extra or {}).get("foreign"):
        yield from _structs(info.type, seen)


def require_strict(command_type: str, payload_type: Any) -> None:
    """Refuse a payload type with a Struct (at any depth) that would silently drop unknown fields."""
    for struct in _structs(mi.type_info(payload_type), set()):
        if not struct.forbid_unknown_fields:
            raise TypeError(
                f"{command_type}: payload struct {struct.cls.__qualname__} must forbid unknown fields "
                "(subclass deskbridge.payloads.Payload, or pass forbid_unknown_fields=True)"
            )


_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>.*)`$", re.DOTALL)
_STEP = re.compile(r"\.(?P<name>[^.\[]+)|\[(?P<index>[^\]]*)\]")


def _at(info: mi.Type, path: str) -> mi.StructType | None:
    """The Struct found at a msgspec error path such as ``$.songs[0].advanced``."""
    for step in _STEP.finditer(path.removeprefix("$")):
        info = _unwrap(info)
        if step["name"] is not None and isinstance(info, mi.StructType):
            by_name = {f.encode_name: f.type for f in info.fields}
            if step["name"] not in by_name:
                return None
            info = by_name[step["name"]]
        elif step["index"] is not None and isinstance(
            info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)
        ):
            info = info.item_type
        elif step["index"] is not None and isinstance(info, mi.TupleType) and step["index"].isdigit():
            info = info.item_types[int(step["index"])]
        elif step["index"] is not None and isinstance(info, mi.DictType):
            info = info.value_type
        else:
            return None
    info = _unwrap(info)
    return info if isinstance(info, mi.StructType) else None


def _unwrap(info: mi.Type) -> mi.Type:
    while True:
        if isinstance(info, mi.Metadata):
            info = info.type
        elif isinstance(info, mi.UnionType):
            structs = [t for t in info.types if isinstance(_unwrap(t), mi.StructType)]
            if len(structs) != 1:
                return info
            info = structs[0]
        else:
            return info


def invalid(exc: msgspec.ValidationError, payload_type: Any) -> tuple[str, dict[str, Any]]:
    """``INVALID_PAYLOAD``'s message and details; an unknown field gets the closest known one."""
    message, sep, where = str(exc).rpartition(" - at `")
    if not sep:  # msgspec names no path for the top level
        message, where = where, "$"
    unknown = _UNKNOWN.match(message)
    if unknown is None:
        return protocol.validation_details(exc)
    path = where.rstrip("`")
    name = unknown["field"]
    struct = _at(mi.type_info(payload_type), path)
    known = [f.encode_name for f in struct.fields] if struct is not None else []
    details: dict[str, Any] = {"fields": [f"{path}.{name}"], "unknown_field": name, "known_fields": known}
    text = f"invalid payload: unknown field `{name}` at `{path}`"
    suggestion = closest(name, known)
    if suggestion is not None:
        details["did_you_mean"] = suggestion
        text += f"; did you mean `{suggestion}`?"
    elif known:
        text += f"; known fields: {', '.join(known)}"
    else:
        text += "; this command takes no fields"
    return text, details
