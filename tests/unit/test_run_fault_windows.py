"""A run's faults end to end against fakes: the fault gauge and the record follow the window
from the first effect to the removal's end; a fault that did not bite ends the run in exit 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import EXIT_INFRA, EXIT_OK
from harness.plan import timeline
from harness.record import load_record
from harness.run.options import RunOptions
from harness.run.orchestrator import ScenarioRun
from harness.scenario.model import Scenario
from tests.fakes import FakeProm, FakeStack

LOAD = {"users": 2, "spawn_rate": 2, "duration": "300ms", "geography": {"us-east": 100}}
ERROR_RATIO = {"name": "errors", "phase": "run", "error_ratio": {"max": 0.05}}
DEATH = {"type": "consumer_death", "region": "us-east", "at": 0, "duration": 10}


def execute(tmp_path: Path, stack: FakeStack, **fields: Any) -> tuple[int, ScenarioRun]:
    chosen = Scenario.model_validate({"name": "unit", "load": LOAD, **fields})
    run = ScenarioRun(
        scenario=chosen,
        timeline=timeline(chosen),  # unchecked: a 10 s fault may outlast a 300 ms load here
        options=RunOptions(scenario_path=Path("unit.yaml"), settle_s=0.0),
        run_dir=tmp_path,
        stack=stack,
        say=lambda line: None,
        live=lambda line: None,
    )
    return run.execute(), run


def test_a_mid_job_kill_that_caught_no_job_ends_the_run_in_an_error(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))
    stack.containers.busy = False
    code, run = execute(tmp_path, stack, faults=[DEATH], slos=[ERROR_RATIO])
    assert code == EXIT_INFRA and run.record.status == "error"
    assert run.record.error is not None
    assert run.record.error.startswith(
        "error: consumer_death (faults[0]) killed 2 workers, none inside a job: the fault did "
        "not bite"
    )
    saved = load_record(tmp_path)
    assert saved.faults[0].status == "failed"
    assert saved.faults[0].effects["killed_idle"] == 2
    assert stack.containers.down() == [] and stack.gauge.values == {0: 0.0}


def test_the_record_keeps_every_time_of_a_faults_window(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))
    code, run = execute(tmp_path, stack, faults=[DEATH], slos=[ERROR_RATIO])
    assert code == EXIT_OK
    fault = load_record(tmp_path).faults[0]
    assert fault.status == "removed" and fault.effects["killed_in_job"] == 2
    assert fault.first_effect_at is not None and fault.applied_at is not None
    assert fault.removal_started_at is not None and fault.removed_at is not None
    assert fault.first_effect_at <= fault.applied_at <= fault.removal_started_at
    assert fault.removal_started_at <= fault.removed_at
    kinds = [e.kind for e in run.record.events if e.kind.startswith("fault_")]
    assert kinds == ["fault_applying", "fault_applied", "fault_removing", "fault_removed"]
    assert stack.gauge.values == {0: 0.0}
