"""The bundled scenarios prove themselves: every claimed cell of the verdict table in
scenarios/README.md is one real `harness run` against the real stack.

`pass`: exit 0 on the healthy stack: the session's stack, reused, when the scenario's `stack:`
asks for what it has, else a fresh stack the run starts and removes. `fail: A; B; C?`: on a fresh
stack started with the seeded bug, exit 1, A and B among the failed SLOs or invariants, and
nothing failed or erred that the cell does not name (C may fail). The verdicts are read from
the run's results.json, not from its terminal output. Bold cells run in the default test
command; the others are marked slow (`bash scripts/test.sh -m slow`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.run.stackuse import stack_config
from harness.scenario.loader import load_scenario
from harness.stack.config import differences
from tests.integration.conftest import session_stack_config
from tests.integration.helpers import harness_cli
from tests.verdict_table import README, Cell, read_table

CELLS = [
    pytest.param(cell, id=cell.id, marks=() if cell.default else (pytest.mark.slow,))
    for cell in read_table()
]
RUN_TIMEOUT_S = 900  # game-day's load is 215 s; a stack start and the checks come on top


def verdicts(reports: Path) -> dict[str, str]:
    """SLO or invariant name -> its verdict, from the one run's results.json."""
    (results,) = reports.glob("*/results.json")
    record = json.loads(results.read_text(encoding="utf-8"))
    return {r["name"]: r["verdict"] for r in [*record["slos"], *record["invariants"]]}


def fits_the_session_stack(scenario: Path) -> bool:
    """Whether the scenario's `stack:` asks for what the session's stack has (a run with
    --reuse-stack on any other stack ends in a usage error, before any load)."""
    wanted = stack_config(load_scenario(scenario), "session")
    return not differences(wanted, session_stack_config("session"))


@pytest.mark.parametrize("cell", CELLS)
def test_verdict_table_cell(cell: Cell, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    scenario = str(README.parent / f"{cell.scenario}.yaml")
    if cell.bug is None and fits_the_session_stack(Path(scenario)):
        request.getfixturevalue("stack")
        stack = ["--stack", request.getfixturevalue("stack_name"), "--reuse-stack"]
    elif cell.bug is None:
        stack = ["--stack", f"it-own-{os.getpid()}", "--drain-timeout", "15"]
    else:
        stack = ["--bug", cell.bug, "--stack", f"it-bug-{os.getpid()}", "--drain-timeout", "15"]
    done = harness_cli(
        "run", scenario, *stack, "--reports", str(tmp_path), timeout=RUN_TIMEOUT_S
    )  # fmt: skip
    tail = done.stderr[-4000:]
    judged = verdicts(tmp_path)
    not_passed = {name: v for name, v in judged.items() if v != "pass"}
    if cell.expected == "pass":
        assert done.returncode == 0, tail
        assert not_passed == {}, tail
        return
    assert done.returncode == 1, tail
    assert set(cell.must_fail) <= set(not_passed), f"{cell.must_fail} must fail\n{tail}"
    unexplained = {n: v for n, v in not_passed.items() if n not in cell.explained or v != "fail"}
    assert unexplained == {}, f"not explained by {cell.bug}: {unexplained}\n{tail}"
