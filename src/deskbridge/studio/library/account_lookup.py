"""An account's stored name from any spelling of it: what every table naming an account checks first.

Apart from :mod:`.accounts` so that the queues, the creation history and the
download history can check a name without importing the manager that
renames and deletes accounts (which holds them, to move their rows along).
"""

from __future__ import annotations

import sqlite3

from deskbridge.errors import CommandError
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library import names


def find_account(conn: sqlite3.Connection, name: str, field: str) -> str:
    """The stored spelling of the account called ``name`` (any case), or ``ACCOUNT_NOT_FOUND``."""
    valid = names.account_name(name, field)
    row = conn.execute("SELECT name FROM accounts WHERE key = ?", (names.name_key(valid),)).fetchone()
    if row is None:
        raise CommandError(StudioError.ACCOUNT_NOT_FOUND, f"there is no account named {name!r}", {"name": name})
    return str(row["name"])
