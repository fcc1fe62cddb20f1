"""The JSON config file's sections, and the one way each is checked.

::

    {"events": {"max_age_days": 7, "max_count": 100000, "max_megabytes": 256},     # the event log's retention
     "web": {"allowed_origins": ["app://desk"], "allowed_hosts": [], ...},           # deskbridge serve
     "stdio": {"outbox_bytes": 8388608},                                             # deskbridge stdio
     "studio": {...},                                                                # an app's own section
     ...}                                                                            # (the guardian: top level)

The core reads ``events``, ``web`` and ``stdio``; an app reads its section (the guardian
reads the top level, as seed 004 writes it, less :data:`CORE_SECTIONS` and the
other apps' names). Every section is converted to a strict ``msgspec.Struct``:
a key nobody knows or a value of the wrong shape stops the backend at start
with a :class:`ConfigError` naming it, so a typo never silently keeps a default.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import msgspec

S = TypeVar("S")

CORE_SECTIONS: Final = frozenset({"events", "web", "stdio"})
"""Top-level keys the core reads: no app may claim them."""


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the offending key."""


def convert(value: Any, kind: type[S], *, owner: str, where: str) -> S:
    """``value`` (found at ``where``, a path like ``$.web``) as ``kind``, or a :class:`ConfigError` naming the key."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if " - at `$" in text:
            text = text.replace(" - at `$", f" - at `{where}", 1)
        elif where != "$":
            text = f"{text} - at `{where}`"
        raise ConfigError(f"{owner} config: {text}") from None
