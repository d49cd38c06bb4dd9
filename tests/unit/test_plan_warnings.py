"""Warnings about a scenario that runs but whose settle-time bound the judge cannot exceed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.plan_warnings import plan_warnings, settle_span
from harness.scenario.loader import read_scenario
from harness.scenario.model import Scenario

LOAD = {"users": 10, "spawn_rate": 5, "duration": "120s", "geography": {"us-east": 100}}


def outage(at: float, duration: float) -> dict[str, Any]:
    return {"type": "region_outage", "region": "us-east", "at": at, "duration": duration}


def consumers(at: float, duration: float) -> dict[str, Any]:
    return {"type": "consumer_death", "region": "all", "count": "all", "at": at,
            "duration": duration}  # fmt: skip


def scenario(faults: list[dict[str, Any]], *slos: dict[str, Any]) -> Scenario:
    return Scenario.model_validate({"name": "w", "load": LOAD, "faults": faults, "slos": slos})


def recover(max_s: float, fault: int = 0, from_: str = "start", phase: str = "run") -> dict:
    value = {"max": max_s, "fault": fault, "from": from_}
    return {"name": "recovers", "phase": phase, "time_to_recover_s": value}


def drained(max_s: float, fault: int | None = None) -> dict[str, Any]:
    slo: dict[str, Any] = {"name": "drained", "phase": "recovery"}
    if fault is not None:
        slo["fault"] = fault
    return {**slo, "backlog_drained_within_s": {"max": max_s, "level": 2}}


# (faults, slo, the span searched (start, end), warned): a settle ends with 3 samples 1 s
# apart, so the longest settle a span of S seconds shows is S - 2.
CASES = {
    "from start, bound = the fault's length": (
        [outage(15, 25)], recover(25), (15, 40), True),
    "from start, bound = span - 2": ([outage(15, 25)], recover(23), (15, 40), True),
    "from start, bound just under span - 2": ([outage(15, 25)], recover(22.5), (15, 40), False),
    "from start, ci-gate's 20 s": ([outage(15, 25)], recover(20), (15, 40), False),
    "from end: to the next fault's start": (
        [outage(10, 20), consumers(50, 10)], recover(19, from_="end"), (30, 50), True),
    "from end: the next fault in time, not by index": (
        [outage(60, 10), consumers(10, 10)], recover(40, from_="end"), (70, 120), False),
    "from end of the last fault: to the phase's end": (
        [outage(10, 20)], recover(88, from_="end"), (30, 120), True),
    "cut at the phase's end": (
        [outage(10, 20)], recover(5, phase="fault"), (10, 30), False),
    "drained: recovery[1] as long as the bound": (
        [outage(20, 40), consumers(90, 20), outage(150, 30)], drained(40, fault=1), (110, 150),
        True),
    "drained: recovery[1] with room": (
        [outage(20, 40), consumers(90, 20), outage(150, 30)], drained(30, fault=1), (110, 150),
        False),
    "drained: from the last fault's end to the end of the load": (
        [consumers(10, 20), outage(40, 20)], drained(60), (60, 120), True),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_bound_the_span_cannot_exceed_is_warned(case: tuple) -> None:
    faults, slo, span, warned = case
    s = scenario(faults, slo)
    from harness.plan import timeline

    start, end, _ = settle_span(s.slos[0], timeline(s)) or (None, None, None)
    assert (start, end) == span
    warnings = plan_warnings(s)
    assert bool(warnings) == warned, warnings
    if warned:
        assert warnings[0].path == ("slos", 0, s.slos[0].objective, "max")
        assert "cannot be exceeded" in warnings[0].message


def test_other_objectives_are_not_warned() -> None:
    s = scenario([outage(15, 25)], {"name": "e", "phase": "fault", "error_ratio": {"max": 1}})
    assert settle_span(s.slos[0], __import__("harness.plan").plan.timeline(s)) is None
    assert plan_warnings(s) == []


GAME_DAY_LIKE = """\
name: w
load: {users: 10, spawn_rate: 5, duration: 120s, geography: {us-east: 100}}
faults:
  - {type: consumer_death, region: all, count: all, at: 20s, duration: 20s}
slos:
  - {name: fine, phase: run, error_ratio: {max: 0.1}}
  - name: drained
    phase: recovery
    backlog_drained_within_s: {max: 80, level: 2}
"""


def test_warnings_name_the_line_and_do_not_fail_validate(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(GAME_DAY_LIKE)
    loaded = read_scenario(path, plan_warnings)
    assert loaded.scenario.name == "w"
    assert len(loaded.warnings) == 1
    assert loaded.warnings[0].startswith(f"{path}:9: slos[1].backlog_drained_within_s.max: ")
    assert "longest it can find is 1m18s" in loaded.warnings[0]
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"warning: {path}:9: slos[1]" in result.stderr
    assert f"{path}: ok (w)" in result.stdout


def test_no_bundled_scenario_has_a_bound_that_cannot_fail() -> None:
    from tests.unit.test_scenario_loader import BUNDLED

    warned = {path.name: read_scenario(path, plan_warnings).warnings for path in BUNDLED}
    assert {name: w for name, w in warned.items() if w} == {}
