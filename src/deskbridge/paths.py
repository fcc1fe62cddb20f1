"""Where deskbridge keeps its files, and names from outside that must stay inside."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "DESKBRIDGE_DATA_DIR"


def default_data_dir() -> Path:
    """``$DESKBRIDGE_DATA_DIR``, else the per-user data directory of the platform."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # ~4 ms at start, and most front ends pass --data-dir

    return Path(platformdirs.user_data_dir("deskbridge", appauthor=False))


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (private to the user) if missing and return it resolved."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path.resolve()


def contained(root: Path, *parts: str) -> Path:
    """``root / parts`` resolved, refusing any result outside ``root`` (``..``, links, absolutes)."""
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        raise ValueError(f"path {'/'.join(parts)!r} escapes {base}")
    return candidate
