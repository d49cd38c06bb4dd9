"""The guard on the real load generator: a ScenarioRun on the fakes' Target but with the real
`start_load`, whose Locust is SIGKILLed 2 s into a 10 s load (requests go to a closed loopback
port: failures, which do not matter here). No Docker; about 5 s."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from harness.errors import EXIT_INFRA
from harness.load import registry
from harness.load.runner import start_load
from harness.plan import timeline
from harness.run.options import RunOptions
from harness.run.orchestrator import ScenarioRun
from harness.scenario.model import Scenario
from tests.fakes import FakeProm, FakeStack

SCENARIO = {
    "name": "unit-locust",
    "load": {"users": 2, "spawn_rate": 2, "duration": "10s", "geography": {"us-east": 100}},
    "faults": [{"type": "latency", "link": "shard0-us-west", "latency_ms": 50, "at": "6s",
                "duration": "2s"}],
    "slos": [{"name": "errors", "phase": "run", "error_ratio": {"max": 1.0}}],
}  # fmt: skip


def kill_locust_when_loaded(run_dir: Path, after_s: float, killed: list[int]) -> None:
    """Find the run's Locust through its load record, wait until its load runs, SIGKILL it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        mine = [r for r in registry.read_records() if r.run_dir == str(run_dir.resolve())]
        if mine and (run_dir / "locust_stats_history.csv").exists():
            time.sleep(after_s)
            os.kill(mine[0].pid, signal.SIGKILL)
            killed.append(mine[0].pid)
            return
        time.sleep(0.05)


@pytest.mark.timeout(90)
def test_a_sigkilled_locust_is_exit_3_not_judged_and_the_later_fault_never_ran(
    tmp_path: Path,
) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))
    stack.load = start_load  # type: ignore[assignment]
    chosen = Scenario.model_validate(SCENARIO)
    run = ScenarioRun(scenario=chosen, timeline=timeline(chosen),
                      options=RunOptions(scenario_path=Path("unit.yaml"), settle_s=0.0),
                      run_dir=tmp_path, stack=stack, say=lambda m: None,
                      live=lambda line: None)  # fmt: skip
    killed: list[int] = []
    killer = threading.Thread(target=kill_locust_when_loaded, args=(tmp_path, 2.0, killed))
    killer.start()
    started = time.monotonic()
    code = run.execute()
    killer.join(timeout=60)
    assert killed, "the load never started"
    assert code == EXIT_INFRA and time.monotonic() - started < 30
    deviation = run.record.deviation or ""
    assert "the load generator (Locust) was killed by signal 9" in deviation, run.record.error
    assert "faults that never ran: 0 (latency on shard0-us-west, due at 6 s)" in deviation
    assert run.record.slos == [] and [f.status for f in run.record.faults] == ["never_ran"]
    assert stack.links.calls == [("reset",), ("reset",)]  # the fault never touched a link
    assert registry.read_records() == []  # the record went with the process


@pytest.mark.timeout(90)
def test_a_real_load_that_runs_as_planned_is_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.run.guard.SPAWN_GRACE_S", 2.0)  # users checked 2.1 s in
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))
    stack.load = start_load  # type: ignore[assignment]
    load = {"users": 2, "spawn_rate": 20, "duration": "5s", "geography": {"us-east": 100}}
    chosen = Scenario.model_validate({**SCENARIO, "load": load, "faults": []})
    run = ScenarioRun(scenario=chosen, timeline=timeline(chosen),
                      options=RunOptions(scenario_path=Path("unit.yaml"), settle_s=0.0),
                      run_dir=tmp_path, stack=stack, say=lambda m: None,
                      live=lambda line: None)  # fmt: skip
    code = run.execute()
    assert run.record.deviation is None, run.record.error
    assert code == 0 and [s.verdict for s in run.record.slos] == ["pass"]
