"""The sans-I/O core fed anything: arbitrary bytes, cut anywhere, under any line limit.

tests/test_protocol.py pins the framer's and the decoder's documented cases
and checks that a split stream frames like the whole one. Here the framer is
held to an independent model of docs/protocol.md (:mod:`fuzz.core_checks`),
on arbitrary bytes as well as on JSON built to reach the decoder's slow path
(wrong types, lone surrogates, invalid UTF-8, deep nesting); and a bounded
coverage-guided pass of ``fuzz/fuzz_framer.py`` (atheris) runs the same
checks with libFuzzer's feedback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fuzz.core_checks import check_stream
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.robustness.cases import ROOT
from tests.robustness.support import FUZZ_RANDOM, FUZZ_SETTINGS, record

FUZZ_SCRIPT = ROOT / "fuzz" / "fuzz_framer.py"
SEED_CORPUS = ROOT / "fuzz" / "corpus"
ATHERIS_RUNS = int(os.environ.get("DESKBRIDGE_FUZZ_RUNS", "20000"))
"""libFuzzer runs of the CI pass; raise it (or run fuzz/fuzz_framer.py by hand) for a longer search."""

# -- inputs ------------------------------------------------------------------------------------

ODD_CHARACTERS = ["\ud800", "\udfff", "\x00", "\u2028", "\ufeff", '"', "\\", "\n"]
text = st.text(st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


def nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


@st.composite
def json_lines(draw: st.DrawFn) -> bytes:
    """A line that is a command, nearly one, or JSON that is not one: built to reach every branch of the decoder."""
    fields: dict[str, Any] = {}
    for name, value in (("id", st.one_of(text, json_values)), ("type", st.one_of(text, json_values)),
                        ("payload", json_values), ("timestamp", json_values)):  # fmt: skip
        if draw(st.booleans()):
            fields[name] = draw(value)
    message: Any = fields if draw(st.integers(0, 5)) else draw(json_values)
    line = json.dumps(message, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    mutation = draw(st.sampled_from(["none", "none", "truncate", "byte", "nest"]))
    if mutation == "truncate" and line:
        line = line[: draw(st.integers(0, len(line) - 1))]
    elif mutation == "byte" and line:
        at = draw(st.integers(0, len(line) - 1))
        line = line[:at] + bytes([draw(st.integers(0, 255))]) + line[at + 1 :]
    elif mutation == "nest":
        line = nested(draw(st.integers(500, 3000)), line)
    return line


def streams_of(lines: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    separators = st.sampled_from([b"\n", b"\r\n", b"\n\n", b" \n", b"\t\r\n"])
    return st.lists(st.tuples(lines, separators), max_size=8).map(lambda pairs: b"".join(a + b for a, b in pairs))


any_bytes = st.binary(max_size=300)
line_limits = st.one_of(st.integers(1, 80), st.just(16 * 1024 * 1024))
cuts = st.lists(st.integers(0, 4000), max_size=12)

# -- properties ------------------------------------------------------------------------------


@settings(FUZZ_SETTINGS, max_examples=400)
@given(stream=st.one_of(any_bytes, streams_of(any_bytes)), max_line=line_limits, cuts=cuts)
def test_arbitrary_bytes_frame_as_the_model_says_whatever_the_cuts(
    stream: bytes, max_line: int, cuts: list[int]
) -> None:
    check_stream(stream, cuts, max_line)


@settings(FUZZ_SETTINGS, max_examples=300)
@given(stream=streams_of(json_lines()), max_line=line_limits, cuts=cuts)
@example(stream=b'{"id":"\\ud800","type":"PING"}\n', max_line=1 << 24, cuts=[])
@example(stream=nested(5000) + b"\n", max_line=1 << 24, cuts=[])
@example(stream=b'{"id":"d","type":"ECHO","payload":' + nested(5000) + b"}\n", max_line=1 << 24, cuts=[7])
def test_every_line_decodes_to_a_command_or_its_error_response(stream: bytes, max_line: int, cuts: list[int]) -> None:
    check_stream(stream, cuts, max_line)


@settings(FUZZ_SETTINGS, max_examples=100)
@given(stream=streams_of(json_lines()), max_line=line_limits, cuts=cuts)
def test_the_same_messages_come_out_of_whole_and_cut_streams(stream: bytes, max_line: int, cuts: list[int]) -> None:
    assert check_stream(stream, cuts, max_line) == check_stream(stream, [], max_line)


# -- the coverage-guided pass ------------------------------------------------------------------


@pytest.mark.slow
def test_a_bounded_coverage_guided_pass_finds_nothing(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is in the dev extra; pip install atheris")
    work = tmp_path / "corpus"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, str(FUZZ_SCRIPT), str(work), str(SEED_CORPUS), f"-runs={ATHERIS_RUNS}",
         f"-artifact_prefix={tmp_path}/", "-max_total_time=120", "-print_final_stats=1",
         *([] if FUZZ_RANDOM else ["-seed=1"])],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    crashes = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert not crashes, result.stderr[-4000:]
    assert result.returncode == 0, result.stderr[-4000:]
    done = re.search(r"Done (\d+) runs in (\d+) second", result.stderr)
    coverage = re.findall(r"cov: (\d+)", result.stderr)
    assert done is not None, result.stderr[-2000:]
    record(
        "fuzz.atheris",
        runs=int(done.group(1)),
        seconds=int(done.group(2)),
        edges_covered=int(coverage[-1]) if coverage else None,
        corpus_found=len(list(work.iterdir())),
        crashes=0,
    )
