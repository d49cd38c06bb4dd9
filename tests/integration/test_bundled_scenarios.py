"""The bundled scenarios prove themselves: every claimed cell of the verdict table in
scenarios/README.md is one real `harness run` against the real stack.

`pass`: exit 0 on the healthy stack (the session's stack, reused). `fail: X`: on a fresh stack
started with the seeded bug, exit 1 with X among the failed SLOs or invariants. Bold cells run
in the default test command; the others are marked slow (`bash scripts/test.sh -m slow`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.helpers import harness_cli
from tests.verdict_table import README, Cell, read_table

CELLS = [
    pytest.param(cell, id=cell.id, marks=() if cell.default else (pytest.mark.slow,))
    for cell in read_table()
]
RUN_TIMEOUT_S = 900  # game-day's load is 215 s; a stack start and the checks come on top


def failed_names(stderr: str) -> list[str]:
    """The SLOs and invariants the run's summary names as failed."""
    names = []
    for line in stderr.splitlines():
        if line.startswith("SLO FAIL: "):
            names.append(line.removeprefix("SLO FAIL: ").split(" [phase ", 1)[0])
        elif line.startswith("INVARIANT FAIL: "):
            names.append(line.removeprefix("INVARIANT FAIL: ").split(":", 1)[0])
    return names


@pytest.mark.parametrize("cell", CELLS)
def test_verdict_table_cell(cell: Cell, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    scenario = str(README.parent / f"{cell.scenario}.yaml")
    if cell.bug is None:
        request.getfixturevalue("stack")
        stack = ["--stack", request.getfixturevalue("stack_name"), "--reuse-stack"]
    else:
        stack = ["--bug", cell.bug, "--stack", f"it-bug-{os.getpid()}", "--drain-timeout", "15"]
    done = harness_cli(
        "run", scenario, *stack, "--reports", str(tmp_path), timeout=RUN_TIMEOUT_S
    )  # fmt: skip
    tail = done.stderr[-4000:]
    if cell.expected == "pass":
        assert done.returncode == 0, tail
        assert failed_names(done.stderr) == [], tail
    else:
        assert done.returncode == 1, tail
        assert cell.caught_by in failed_names(done.stderr), tail
