"""ScenarioRun against a Target of fakes: verdicts, infrastructure errors, interrupts, healing,
and the order of the cleanups (last acquired, first released), in well under a second each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import EXIT_INFRA, EXIT_INTERRUPTED, EXIT_OK, EXIT_VERDICT_FAILED, InfraError
from harness.plan import timeline
from harness.record import load_record
from harness.run.options import RunOptions
from harness.run.orchestrator import ScenarioRun
from harness.scenario.model import Scenario
from tests.fakes import FakeProm, FakeStack

LOAD = {"users": 2, "spawn_rate": 2, "duration": "300ms", "geography": {"us-east": 100}}
ERROR_RATIO = {"name": "errors", "phase": "run", "error_ratio": {"max": 0.05}}
LINK_DOWN = {"type": "link_down", "link": "edge-us-east", "at": 0, "duration": 10}
# What the cleanups do, in the order they must run: the last acquired is released first.
CLEANUPS = [
    "scrape unregistered",
    "gauge stopped",
    "links reset",
    "containers healed",
    "logs saved",
    "stack released",
]


def scenario(**fields: Any) -> Scenario:
    return Scenario.model_validate({"name": "unit", "load": LOAD, **fields})


def execute(tmp_path: Path, stack: FakeStack, **fields: Any) -> tuple[int, ScenarioRun, list[str]]:
    chosen = scenario(**fields)
    said: list[str] = []
    run = ScenarioRun(
        scenario=chosen,
        timeline=timeline(chosen),  # unchecked: a 10 s fault may outlast a 300 ms load here
        options=RunOptions(scenario_path=Path("unit.yaml"), settle_s=0.0),
        run_dir=tmp_path,
        stack=stack,
        say=said.append,
        live=lambda line: None,
    )
    return run.execute(), run, said


def test_a_passing_run_acquires_in_order_and_cleans_up_in_reverse(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.01)]))
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_OK and run.record.status == "passed"
    assert stack.journal[:6] == [
        "connected",
        "stack acquired",
        "links reset",
        "containers healed",
        "gauge started",
        "load started",
    ]
    assert stack.journal[-len(CLEANUPS) :] == CLEANUPS
    assert stack.scrape.sources == {} and stack.shards.closed and stack.queue.closed
    saved = load_record(tmp_path)
    assert saved.exit_code == EXIT_OK and [s.verdict for s in saved.slos] == ["pass"]
    assert all(step.status == "ok" for step in saved.steps)


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [([({}, 0.2)], "fail"), ([], "error")],
    ids=["over the bound", "no data is never a pass"],
)
def test_a_verdict_other_than_pass_exits_1(tmp_path: Path, answer: Any, verdict: str) -> None:
    stack = FakeStack(prom=FakeProm(instant=answer))
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_VERDICT_FAILED and run.record.status == "failed"
    assert [s.verdict for s in run.record.slos] == [verdict]


def test_invariants_read_the_targets_shards_and_queue(tmp_path: Path) -> None:
    stack = FakeStack()
    code, run, said = execute(tmp_path, stack, invariants=["no_lost_writes"])
    # Nothing was acknowledged (the fake load writes no ledger): an error, never a pass.
    assert code == EXIT_VERDICT_FAILED
    assert [i.verdict for i in run.record.invariants] == ["error"]
    assert "checking invariants: no_lost_writes" in said
    assert stack.shards.closed and stack.queue.closed


def test_a_stack_that_does_not_come_up_is_an_infra_error(tmp_path: Path) -> None:
    stack = FakeStack(fail_acquire=InfraError("stack 'fake' did not become healthy"))
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_INFRA and run.record.status == "error"
    assert run.record.error is not None and "did not become healthy" in run.record.error
    assert stack.journal == ["connected"]  # nothing was acquired, so nothing is released


def test_an_interrupt_during_the_load_heals_and_releases(tmp_path: Path) -> None:
    stack = FakeStack(load_fail=KeyboardInterrupt())
    code, run, said = execute(tmp_path, stack, faults=[LINK_DOWN], slos=[ERROR_RATIO])
    assert code == EXIT_INTERRUPTED and run.record.status == "interrupted"
    assert "interrupted: healing the stack" in said
    assert ("disable", "edge-us-east") in stack.links.calls  # the fault was applied ...
    assert stack.links.dirty() == []  # ... and removed
    assert [f.status for f in run.record.faults] == ["removed"]
    assert stack.journal[-len(CLEANUPS) :] == CLEANUPS
    assert load_record(tmp_path).exit_code == EXIT_INTERRUPTED


def test_a_crashed_load_generator_is_an_infra_error_and_still_heals(tmp_path: Path) -> None:
    stack = FakeStack(load_fail=InfraError("Locust exited with code 2"))
    code, run, _ = execute(tmp_path, stack, faults=[LINK_DOWN])
    assert code == EXIT_INFRA
    assert run.record.error is not None and "Locust exited" in run.record.error
    assert stack.links.dirty() == []
    assert stack.journal[-len(CLEANUPS) :] == CLEANUPS


def test_a_fault_that_cannot_be_removed_is_an_infra_error(tmp_path: Path) -> None:
    stack = FakeStack()
    latency = {"type": "latency", "link": "edge-us-east", "latency_ms": 50, "at": 0,
               "duration": 10}  # fmt: skip

    def refuse(proxy: str, name: str) -> None:
        raise InfraError(f"Toxiproxy at http://fake did not answer to remove toxic {name}")

    stack.links.remove_toxic = refuse  # type: ignore[method-assign]
    code, run, _ = execute(tmp_path, stack, faults=[latency])
    assert code == EXIT_INFRA
    assert run.record.error is not None and "faults could not be removed" in run.record.error
    # The safety net still runs after the failed removal, and the stack is still released.
    assert stack.journal[-len(CLEANUPS) :] == CLEANUPS
    assert stack.links.dirty() == []


def test_a_failing_cleanup_does_not_stop_the_others(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))

    def broken() -> None:
        raise InfraError("prometheus container is gone")

    stack.scrape.remove_all = broken  # type: ignore[method-assign]
    code, run, said = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_OK  # unregistering is not vital: said, not the run's error
    assert "unregister metrics failed: prometheus container is gone" in said
    assert run.record.error is None
    assert stack.journal[-len(CLEANUPS) + 1 :] == CLEANUPS[1:]


def test_a_failed_stack_removal_is_the_runs_error(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))

    def stuck() -> None:
        raise InfraError("could not remove network chaos-fake")

    stack.release = stuck  # type: ignore[method-assign]
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert run.record.error == "stack down failed: could not remove network chaos-fake"
    assert code == EXIT_OK  # the verdict stands; the error is recorded and shown


def test_a_bug_of_ours_is_recorded_with_its_traceback(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=RuntimeError("a bug")))
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_INFRA and run.record.status == "error"
    assert run.record.error is not None and run.record.error.startswith("internal error")
    assert "RuntimeError: a bug" in (tmp_path / "harness-traceback.txt").read_text()
    assert stack.journal[-len(CLEANUPS) :] == CLEANUPS
