"""docs/reliability.md stays whole: every robustness test belongs to a row, and every row names real tests."""

from __future__ import annotations

import ast
import re

from tests.robustness.cases import CASES, ROBUSTNESS, ROOT, SECTIONS


def defined(node_id: str) -> bool:
    """Whether the file, and the class or function the node id names, exist (without importing anything)."""
    path, _, rest = node_id.partition("::")
    source = ROOT / path
    if not source.is_file():
        return False
    text = source.read_text(encoding="utf-8")
    return all(re.search(rf"^\s*(?:class|(?:async )?def) {name}\b", text, re.M) for name in rest.split("::") if name)


def claimed(node_id: str) -> bool:
    return any(node_id == named or node_id.startswith(named + "::") for case in CASES for named in case.tests)


def test_every_row_names_tests_that_exist() -> None:
    missing = [(case.id, node_id) for case in CASES for node_id in case.tests if not defined(node_id)]
    assert missing == []


def test_every_robustness_test_belongs_to_a_row() -> None:
    orphans = []
    for module in sorted((ROOT / ROBUSTNESS).glob("test_*.py")):
        if module.name == "test_cases.py":
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                node_id = f"{ROBUSTNESS}{module.name}::{node.name}"
                if not claimed(node_id):
                    orphans.append(node_id)
    assert orphans == [], "add these to a Case in tests/robustness/cases.py"


def test_ids_are_unique_and_sections_known() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert {case.section for case in CASES} <= set(SECTIONS)
