#!/usr/bin/env python3
"""Coverage-guided fuzzing (atheris / libFuzzer) of the line framer and the command decoder.

    .venv/bin/python fuzz/fuzz_framer.py WORK_DIR fuzz/corpus -runs=20000         # what CI runs (bounded)
    .venv/bin/python fuzz/fuzz_framer.py WORK_DIR fuzz/corpus -max_total_time=3600

libFuzzer writes the inputs it finds into the *first* directory and only
reads the others, so pass a scratch directory first and keep ``fuzz/corpus``
(the seed corpus under version control) second. A failing input is saved as
``crash-<sha1>`` (``-artifact_prefix=DIR/`` to choose where) and replayed with
``fuzz/fuzz_framer.py crash-<sha1>``.

Input layout, so that seed files stay readable: byte 0 picks ``max_line``
(1 to 255; 0 means the default 16 MiB), byte 1 seeds where the stream is cut
into chunks, the rest is the stream. The properties are those of
:mod:`fuzz.core_checks`, shared with the hypothesis tests.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports(include=["deskbridge", "fuzz"]):
    from deskbridge.protocol import DEFAULT_MAX_LINE
    from fuzz.core_checks import check_stream


def cuts_for(seed: int, length: int) -> list[int]:
    """Chunk boundaries derived from one byte: none, every byte, or a few at random places."""
    if seed == 0 or length == 0:
        return []
    if seed == 1:
        return list(range(1, length))
    chooser = random.Random(seed)
    return [chooser.randrange(length + 1) for _ in range(seed % 8 + 1)]


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    max_line = data[0] or DEFAULT_MAX_LINE
    stream = data[2:]
    check_stream(stream, cuts_for(data[1], len(stream)), max_line)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
