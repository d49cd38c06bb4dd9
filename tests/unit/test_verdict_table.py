"""scenarios/README.md's verdict table names real scenarios, bugs, SLOs and invariants, claims
something for every bug, and keeps the default test command to smoke, a fault scenario and a
bug run. (The integration test runs the cells; this keeps the table honest without Docker.)"""

from __future__ import annotations

import pytest

from harness.scenario.loader import load_scenario
from harness.scenario.slo_model import OBJECTIVES
from harness.stack.config import BUGS
from harness.vocabulary import INVARIANTS
from tests.verdict_table import README, Cell, TableError, read_table

SCENARIOS = README.parent
CELLS = read_table()


def test_every_row_is_a_bundled_scenario_that_passes_on_the_healthy_stack() -> None:
    rows = {cell.scenario for cell in CELLS}
    files = {path.stem for path in SCENARIOS.glob("*.yaml")}
    assert rows == files
    healthy = {cell.scenario: cell.expected for cell in CELLS if cell.bug is None}
    assert healthy == dict.fromkeys(files, "pass")


def test_every_column_is_a_seeded_bug_and_each_is_caught_somewhere() -> None:
    assert {cell.bug for cell in CELLS if cell.bug} == set(BUGS)
    caught = {cell.bug for cell in CELLS if cell.expected == "fail"}
    assert caught == set(BUGS)


@pytest.mark.parametrize("cell", [c for c in CELLS if c.caught_by], ids=lambda c: c.id)
def test_a_failure_names_slos_or_invariants_of_its_scenario(cell: Cell) -> None:
    scenario = load_scenario(SCENARIOS / f"{cell.scenario}.yaml")
    names = {slo.name for slo in scenario.slos} | set(scenario.invariants)
    assert cell.explained <= names, f"{sorted(cell.explained - names)} not in {sorted(names)}"


def _kinds_that_must_fail() -> set[str]:
    """Objective kinds and invariants named by some cell as failing for sure."""
    kinds: set[str] = set()
    for cell in CELLS:
        scenario = load_scenario(SCENARIOS / f"{cell.scenario}.yaml")
        by_name = {slo.name: slo.objective for slo in scenario.slos}
        kinds |= {by_name.get(name, name) for name in cell.must_fail}
    return kinds


def test_every_objective_kind_and_invariant_is_shown_to_fail_on_the_real_stack() -> None:
    """A check never shown to fail proves nothing: each objective kind and each invariant has
    a cell of the table where a seeded bug must make it fail (a new kind needs its cell)."""
    missing = (set(OBJECTIVES) | set(INVARIANTS)) - _kinds_that_must_fail()
    assert missing == set(), f"no cell of the verdict table shows these failing: {missing}"


def test_the_default_test_command_runs_smoke_a_fault_scenario_and_a_bug() -> None:
    default = [cell for cell in CELLS if cell.default]
    assert any(c.scenario == "smoke" and c.bug is None for c in default)
    assert any(c.scenario != "smoke" and c.bug is None for c in default)
    assert any(c.bug is not None and c.expected == "fail" for c in default)
    assert len(default) <= 3, "the rest belongs under -m slow (CI time)"


TABLE = """
| scenario | healthy | failover_off |
|---|---|---|
| smoke | **pass** | — |
| ci-gate | pass | fail: errors during the outage |
| region-outage | pass | **fail: error budget; failover; recovery?** |
"""


def test_the_parser_reads_bold_pass_fail_and_no_claim() -> None:
    cells = [(c.id, c.expected, c.must_fail, c.may_fail, c.default) for c in read_table(TABLE)]
    assert cells == [
        ("smoke-healthy", "pass", (), (), True),
        ("ci-gate-healthy", "pass", (), (), False),
        ("ci-gate-failover_off", "fail", ("errors during the outage",), (), False),
        ("region-outage-healthy", "pass", (), (), False),
        ("region-outage-failover_off", "fail", ("error budget", "failover"), ("recovery",), True),
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("no table here", "verdict table is missing"),
        (TABLE.replace("| — |", "| maybe |"), "'maybe' is not `pass`"),
        (TABLE.replace("fail: errors during the outage", "fail:"), "'fail:' is not"),
        (TABLE.replace("fail: errors during the outage", "fail: maybe?"), "is not `pass`"),
        (TABLE.replace("recovery?", ""), "is not `pass`"),
        (
            TABLE.replace("| smoke | **pass** | — |", "| smoke | pass |"),
            "1 cells, the header has 2",
        ),
    ],
)
def test_the_parser_says_what_is_wrong_and_where(table: str, message: str) -> None:
    with pytest.raises(TableError, match=message):
        read_table(table)
