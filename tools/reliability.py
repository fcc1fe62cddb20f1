#!/usr/bin/env python3
"""Run the reliability cases and regenerate the table in docs/reliability.md: ``python3 tools/reliability.py``.

Every test named in ``tests/robustness/cases.py`` runs (in this checkout's
``.venv``); the tests record their figures in ``artifacts/reliability/``;
the table between the markers of docs/reliability.md is rewritten from the
outcomes and the figures. Exit status 1 if a case failed or a test it names
was not found.

    python3 tools/reliability.py                     # the CI-sized run (soak 60 s), about 4 minutes
    python3 tools/reliability.py --soak-seconds 900  # a longer soak
    python3 tools/reliability.py --render-only       # redraw the table from the last run's results
    python3 tools/reliability.py -- -x               # extra arguments go to pytest
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- BEGIN tools/reliability.py: generated, do not edit -->", "<!-- END tools/reliability.py -->"
OUTCOMES = "outcomes.json"


@dataclass
class Outcome:
    """What pytest said about one test (node id with its parameters)."""

    status: str
    """passed, failed, skipped, xfailed or xpassed."""
    reason: str = ""
    seconds: float = 0.0


@dataclass
class Row:
    case: Any
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def result(self) -> str:
        statuses = {o.status for o in self.outcomes.values()}
        if not statuses:
            return "NOT RUN"
        if statuses & {"failed", "xpassed"}:
            return "FAIL"
        if statuses == {"skipped"}:
            return "skipped"
        if "xfailed" in statuses:
            return "known bug" if "passed" not in statuses else "pass, with known bugs"
        return "pass" if "skipped" not in statuses else "pass (some skipped)"

    @property
    def seconds(self) -> float:
        return sum(o.seconds for o in self.outcomes.values())


# -- running ---------------------------------------------------------------------------------------


class Collector:
    """A pytest plugin (used in-process) that keeps each test's outcome."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        known = self.outcomes.get(report.nodeid)
        seconds = (known.seconds if known else 0.0) + report.duration
        if hasattr(report, "wasxfail"):
            status = "xfailed" if report.skipped else "xpassed"
            self.outcomes[report.nodeid] = Outcome(status, str(report.wasxfail), seconds)
        elif report.failed:
            reason = str(report.longrepr).strip().splitlines()[-1][:300] if report.longrepr else ""
            self.outcomes[report.nodeid] = Outcome("failed", reason, seconds)
        elif report.skipped:
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            self.outcomes[report.nodeid] = Outcome("skipped", reason.removeprefix("Skipped: "), seconds)
        elif report.when == "call" or known is None:
            self.outcomes[report.nodeid] = Outcome("passed", "", seconds)
        else:
            known.seconds = seconds


def run_cases(node_ids: Sequence[str], pytest_args: Sequence[str]) -> dict[str, Outcome]:
    import pytest

    collector = Collector()
    pytest.main(["-p", "no:cacheprovider", "-q", "-rN", *pytest_args, *node_ids], plugins=[collector])
    return collector.outcomes


def belongs(node_id: str, named: str) -> bool:
    return node_id == named or node_id.startswith((named + "[", named + "::"))


# -- rendering -------------------------------------------------------------------------------------


def figures_of(case_id: str, recorded: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The figures of a case: its own file, and those of its parts (``fault.corrupt.studio``) prefixed."""
    merged: dict[str, Any] = dict(recorded.get(case_id, {}))
    for name, values in sorted(recorded.items()):
        if name.startswith(case_id + "."):
            part = name[len(case_id) + 1 :]
            merged.update({f"{part}: {key}": value for key, value in values.items()})
    return merged


def show(value: Any) -> str | None:
    """A figure as table text, or None when it is not a figure (a message, a path, a series)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and len(value) <= 40 and "/" not in value:
        return value
    return None


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def figure_cell(figures: Mapping[str, Any]) -> str:
    parts = [f"{key.replace('_', ' ')}: {shown}" for key, value in figures.items() if (shown := show(value))]
    return "; ".join(parts) or "—"


def headline(rows: Sequence[Row]) -> list[str]:
    """The figures issue 10 asks for, first: losses and duplicates everywhere, then the soak's."""
    lost_keys = ("events_lost", "lost", "acknowledged_lost", "answered_success_but_not_stored")

    def total(key_set: tuple[str, ...], chosen: Iterable[Row]) -> int:
        return sum(int(v) for r in chosen for k, v in r.figures.items() if k in key_set and isinstance(v, int))

    sound = [r for r in rows if "known bug" not in r.result]
    open_bugs = [r for r in rows if "known bug" in r.result and total(lost_keys, [r])]
    soak = next((r.figures for r in rows if r.case.id == "soak"), {})
    lines = [
        "| figure | value |",
        "|---|---|",
        f"| events or acknowledged writes lost, every fault and the soak | {total(lost_keys, sound)} |",
        f"| events delivered twice | {total(('duplicates',), rows)} |",
    ]
    for row in open_bugs:
        lines.append(f"| lost in an open finding: {cell(row.case.title)} | {total(lost_keys, [row])} |")
    if soak:
        rss = soak.get("rss_growth_kib", 0)
        warm, end = soak.get("rss_after_warmup_kib", 0) / 1024, soak.get("rss_end_kib", 0) / 1024
        lines += [
            f"| soak | {soak.get('seconds', 0):g} s: {soak.get('events')} events, {soak.get('commands')} commands, "
            f"{soak.get('operations')} operations, {soak.get('reconnections')} WebSocket reconnections, "
            f"{soak.get('polls')} polls, {soak.get('game_starts')} game starts |",
            f"| soak: RSS growth after warm-up | {rss / 1024:+.1f} MiB ({warm:.1f} → {end:.1f} MiB) |",
            f"| soak: open file descriptors, start → end (max) | {soak.get('fds_start')} → {soak.get('fds_end')} "
            f"({soak.get('fds_max')}) |",
            f"| soak: command latency p50 / p99 / max | {soak.get('p50_ms')} / {soak.get('p99_ms')} / "
            f"{soak.get('max_ms')} ms |",
        ]
    return lines


def render(rows: Sequence[Row], sections: Iterable[str], when: str, soak_seconds: str) -> str:
    lines = [
        BEGIN,
        "",
        f"Generated {when} by `python3 tools/reliability.py` (soak {soak_seconds} s) on "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}.",
        "",
        *headline(rows),
        "",
    ]
    findings: list[tuple[str, str]] = []
    for section in sections:
        chosen = [row for row in rows if row.case.section == section]
        if not chosen:
            continue
        lines += [f"### {section}", "", "| case | result | what the user sees | what is lost | figures | s |"]
        lines += ["|---|---|---|---|---|---:|"]
        for row in chosen:
            case = row.case
            lines.append(
                f"| {cell(case.title)} | **{row.result}** | {cell(case.user_sees)} | {cell(case.lost)} | "
                f"{cell(figure_cell(row.figures))} | {row.seconds:.1f} |"
            )
            for node_id, outcome in sorted(row.outcomes.items()):
                if outcome.status in ("xfailed", "failed", "xpassed", "skipped"):
                    findings.append((f"{outcome.status}: `{node_id}`", outcome.reason))
        lines.append("")
    lines += ["### Open findings, failures and skips", ""]
    if findings:
        lines += [f"* {what}: {cell(why)}" for what, why in findings]
    else:
        lines.append("None.")
    lines += ["", END]
    return "\n".join(lines)


def write_doc(table: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Reliability\n\n"
    if BEGIN in text and END in text:
        before, _, rest = text.partition(BEGIN)
        _, _, after = rest.partition(END)
        text = before + table + after
    else:
        text = text.rstrip("\n") + "\n\n" + table + "\n"
    DOC.write_text(text, encoding="utf-8")


# -- main ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--soak-seconds", help="how long the soak runs (default: $DESKBRIDGE_SOAK_SECONDS or 60)")
    parser.add_argument("--render-only", action="store_true", help="do not run: redraw from the last results")
    parser.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments")
    args = parser.parse_args(argv)
    if Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
        if not VENV_PYTHON.exists():
            sys.exit("tools/reliability.py: no .venv here; run `python3 dev.py setup` first")
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *argv])
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from tests.robustness.cases import CASES, SECTIONS, figures_dir  # no hypothesis yet: pytest rewrites it

    results = figures_dir()
    soak_seconds = args.soak_seconds or os.environ.get("DESKBRIDGE_SOAK_SECONDS", "60")
    if args.render_only:
        saved = json.loads((results / OUTCOMES).read_text(encoding="utf-8"))
        outcomes = {node: Outcome(**values) for node, values in saved["outcomes"].items()}
        when, soak_seconds = saved["when"], saved["soak_seconds"]
    else:
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True)
        os.environ["DESKBRIDGE_SOAK_SECONDS"] = soak_seconds
        node_ids = list(dict.fromkeys(node for case in CASES for node in case.tests))
        outcomes = run_cases(node_ids, args.pytest_args)
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        saved = {"when": when, "soak_seconds": soak_seconds, "outcomes": {k: vars(v) for k, v in outcomes.items()}}
        (results / OUTCOMES).write_text(json.dumps(saved, indent=1), encoding="utf-8")
    recorded = {p.stem: json.loads(p.read_text()) for p in results.glob("*.json") if p.name != OUTCOMES}
    rows = []
    for case in CASES:
        mine = {node: o for node, o in outcomes.items() if any(belongs(node, named) for named in case.tests)}
        rows.append(Row(case, mine, figures_of(case.id, recorded)))
    write_doc(render(rows, SECTIONS, when, soak_seconds))
    unrun = [named for case in CASES for named in case.tests if not any(belongs(n, named) for n in outcomes)]
    for named in unrun:
        print(f"tools/reliability.py: no outcome for {named}", file=sys.stderr)
    bad = [row.case.id for row in rows if row.result in ("FAIL", "NOT RUN")]
    print(f"tools/reliability.py: {DOC.relative_to(ROOT)} rewritten; {len(rows)} cases, failing: {bad or 'none'}")
    return 1 if bad or unrun else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
