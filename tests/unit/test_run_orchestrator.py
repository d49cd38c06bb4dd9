"""ScenarioRun against a Target of fakes: verdicts, infrastructure errors, interrupts, healing,
and the order of the cleanups (last acquired, first released), in well under a second each."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from harness.errors import (
    EXIT_INFRA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VERDICT_FAILED,
    InfraError,
    UsageError,
)
from harness.plan import timeline
from harness.record import load_record
from harness.run.options import RunOptions
from harness.run.orchestrator import ScenarioRun
from harness.scenario.model import Scenario
from tests.fakes import ENDPOINTS, FakeProm, FakeStack, LoadScript

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
    fields.setdefault("load", LOAD)
    chosen = Scenario.model_validate({"name": "unit", **fields})
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
    assert stack.journal[:7] == [
        "connected",
        "stack acquired",
        "links reset",
        "containers healed",
        "gauge started",
        "warmed up",  # pools filled before the load: its cold start is not judged
        "load started",
    ]
    assert stack.journal[-len(CLEANUPS) :] == CLEANUPS
    assert stack.scrape.sources == {} and stack.shards.closed and stack.queue.closed
    warmed = [e for e in run.record.events if e.kind == "warmed_up"]
    assert [e.message for e in warmed] == ["16 reads in 0.1 s (16 404)"]
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


def test_the_ledger_is_read_once_for_the_slos_read_from_it_and_the_invariants(
    tmp_path: Path,
) -> None:
    # Writes to every shard, all committed before the run's fault: none after its first effect.
    (tmp_path / "ledger").mkdir()
    before = time.time() - 5.0
    lines = [
        {"kind": "user", "id": i, "shard": i % 4, "home": "us-east", "served": "us-east",
         "t": before + i * 0.1, "node": f"shard-{i % 4}-us-east", "timeline": 1,
         "committed_at": before + i * 0.1}
        for i in range(8)
    ]  # fmt: skip
    (tmp_path / "ledger" / "1.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    rto = {"name": "write RTO", "phase": "run", "write_unavailable_s": {"max": 30}}
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.01)]))
    code, run, _ = execute(
        tmp_path, stack, faults=[LINK_DOWN], slos=[ERROR_RATIO, rto], invariants=["single_primary"]
    )
    assert code == EXIT_VERDICT_FAILED
    errors, writes = run.record.slos
    assert (errors.verdict, errors.source) == ("pass", "prometheus")
    assert (writes.verdict, writes.source) == ("fail", "ledger")
    assert writes.error is not None and "never succeeded again" in writes.error
    assert writes.window_start == run.record.faults[0].first_effect_at
    # Neither the preflight nor the judge sent the ledger objective to Prometheus.
    assert all("ledger" not in call[1] for call in stack.prom.calls)
    assert [(i.name, i.verdict) for i in run.record.invariants] == [("single_primary", "pass")]


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
    # The SLO passed, but a stack left behind overrides the verdict: exit 3, and the fix.
    assert code == EXIT_INFRA and run.record.status == "error"
    assert [s.verdict for s in run.record.slos] == ["pass"]
    assert run.record.left_broken == ["stack down: could not remove network chaos-fake"]
    assert run.record.error is not None and "harness cleanup --stack default" in run.record.error


def test_a_bug_of_ours_is_recorded_with_its_traceback(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=RuntimeError("a bug")))
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_INFRA and run.record.status == "error"
    assert run.record.error is not None and run.record.error.startswith("internal error")
    assert "RuntimeError: a bug" in (tmp_path / "harness-traceback.txt").read_text()
    assert stack.journal[-len(CLEANUPS) :] == CLEANUPS


# --- the run must have happened as planned (harness/run/guard.py) ----------------------------
LATER = {"type": "latency", "link": "shard0-us-west", "latency_ms": 50, "at": "2s",
         "duration": "1s"}  # fmt: skip


def test_a_load_that_dies_early_is_not_judged_and_its_later_faults_never_ran(
    tmp_path: Path,
) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]), load=LoadScript(dies_after_s=0.3))
    load = {**LOAD, "duration": "5s"}
    code, run, _ = execute(tmp_path, stack, load=load, faults=[LINK_DOWN, LATER],
                           slos=[ERROR_RATIO])  # fmt: skip
    assert code == EXIT_INFRA and run.record.status == "error"
    deviation = run.record.deviation
    assert deviation is not None and deviation.startswith("the load generator (Locust) exited")
    assert "early (LOAD_EARLY_S 3 s)" in deviation and "not judged" in deviation
    assert "faults that never ran: 1 (latency on shard0-us-west, due at 2 s)" in deviation
    assert run.record.slos == [] and run.record.invariants == []  # nothing claimed
    # The applied fault was removed; the later one was never applied (not applied and removed).
    assert [f.status for f in run.record.faults] == ["removed", "never_ran"]
    assert run.record.faults[1].applied_at is None
    assert not [c for c in stack.links.calls if c[0] == "add"]
    assert stack.links.dirty() == [] and stack.journal[-len(CLEANUPS) :] == CLEANUPS
    saved = load_record(tmp_path)
    assert saved.deviation == deviation and saved.exit_code == EXIT_INFRA


@pytest.mark.parametrize(
    ("script", "said"),
    [
        (LoadScript(dies_after_s=0.1, exit_code=-9), "was killed by signal 9"),
        (LoadScript(exit_code=2), "exited with code 2 (a crash"),
        (LoadScript(dies_after_s=0.1, exit_code=-9, history=False), "before recording any"),
    ],
    ids=["SIGKILL", "crash code at the end", "no history at all"],
)
def test_a_load_generator_that_exits_abnormally_is_not_judged(
    tmp_path: Path, script: LoadScript, said: str
) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]), load=script)
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_INFRA and run.record.slos == []
    assert run.record.deviation is not None and said in run.record.deviation
    assert "the run is not judged" in run.record.deviation


def test_locust_exit_code_1_is_failed_requests_a_verdict_not_a_deviation(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]), load=LoadScript(exit_code=1))
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_OK and run.record.deviation is None


def test_a_load_that_never_reaches_its_users_is_not_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.run.guard.SPAWN_GRACE_S", 0.2)
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]), load=LoadScript(users=1))
    load = {**LOAD, "users": 2, "spawn_rate": 20, "duration": "3s"}
    code, run, _ = execute(tmp_path, stack, load=load, slos=[ERROR_RATIO])
    assert code == EXIT_INFRA and run.record.slos == []
    assert run.record.deviation is not None
    assert "ran at most 1 of 2 planned users" in run.record.deviation
    assert "SPAWN_GRACE_S 0.2 s" in run.record.deviation
    assert run.record.load_ended_at is None or run.record.load_ended_at - run.record.started_at < 3


def test_a_fault_applied_late_is_not_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.run.guard.FAULT_LATE_S", 0.1)
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))
    slow = stack.links.set_enabled

    def slow_set_enabled(name: str, enabled: bool) -> None:
        time.sleep(0.3)  # a stalled engine: the next fault's start slips
        slow(name, enabled)

    stack.links.set_enabled = slow_set_enabled  # type: ignore[method-assign]
    second = {**LINK_DOWN, "link": "edge-us-west"}
    code, run, _ = execute(tmp_path, stack, load={**LOAD, "duration": "2s"},
                           faults=[LINK_DOWN, second], slos=[ERROR_RATIO])  # fmt: skip
    assert code == EXIT_INFRA and run.record.slos == []
    assert run.record.deviation is not None
    assert "fault 1 (link_down on edge-us-west) began 0.3 s after" in run.record.deviation
    assert "(FAULT_LATE_S 0.1 s)" in run.record.deviation
    assert stack.links.dirty() == []


# --- a heal that fails overrides the verdict ---------------------------------------------------
def test_a_failing_toxiproxy_reset_at_the_end_is_exit_3_naming_it(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))
    stack.links.resets_left = 1  # the safety reset at the start works, the one at the end not
    code, run, said = execute(tmp_path, stack, faults=[LINK_DOWN], slos=[ERROR_RATIO])
    assert code == EXIT_INFRA and run.record.status == "error"
    assert [s.verdict for s in run.record.slos] == ["pass"]  # judged, then overridden
    assert len(run.record.left_broken) == 1
    broken = run.record.left_broken[0]
    assert broken.startswith("reset faults: Toxiproxy reset failed, links of stack 'fake'")
    assert "(this run's faults touched edge-us-east)" in broken
    error = run.record.error or ""
    assert error.startswith("error: the stack was left broken: reset faults: Toxiproxy reset")
    assert "harness heal --stack default" in error
    assert any(line.startswith("the stack was left broken") for line in said)


def test_a_container_that_cannot_be_restarted_is_exit_3_naming_it(tmp_path: Path) -> None:
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.0)]))
    stack.containers.refuse_start = {"worker-us-east-1"}
    stop = {"type": "container_stop", "service": "worker-us-east", "at": 0, "duration": "100ms"}
    code, run, _ = execute(tmp_path, stack, faults=[stop], slos=[ERROR_RATIO])
    assert code == EXIT_INFRA
    error = run.record.error or ""
    assert "fault 0 (container_stop on worker-us-east)" in error
    assert any("chaos-fake-worker-us-east-1" in b for b in run.record.left_broken)
    assert "harness heal" in error


def test_an_interrupted_run_whose_heal_fails_keeps_130_and_names_it(tmp_path: Path) -> None:
    stack = FakeStack(load_fail=KeyboardInterrupt())
    stack.links.resets_left = 1
    code, run, _ = execute(tmp_path, stack, faults=[LINK_DOWN], slos=[ERROR_RATIO])
    assert code == EXIT_INTERRUPTED
    assert run.record.left_broken and "harness heal" in (run.record.error or "")


def test_the_stacks_dns_server_and_entry_port_reach_the_load(tmp_path: Path) -> None:
    endpoints = dataclasses.replace(ENDPOINTS, dns="127.0.0.1:5300", entry_port=8088)
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.01)]), endpoints=endpoints)
    load = LOAD | {"dns": {"stale_share": 0.5}}
    code, _, _ = execute(tmp_path, stack, load=load, slos=[ERROR_RATIO])
    assert code == EXIT_OK
    settings = stack.load.settings
    assert settings is not None and settings.uses_dns
    assert (settings.dns_host, settings.dns_port, settings.entry_port) == ("127.0.0.1", 5300, 8088)
    assert settings.stale_share == 0.5


def test_stale_dns_users_on_a_stack_without_dns_are_exit_2_before_the_load(
    tmp_path: Path,
) -> None:
    endpoints = dataclasses.replace(ENDPOINTS, dns="", entry_port=0)  # a target without DNS
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.01)]), endpoints=endpoints)
    load = LOAD | {"dns": {"stale_share": 0.5}}
    code, run, _ = execute(tmp_path, stack, load=load, slos=[ERROR_RATIO])
    assert code == EXIT_USAGE and "has no DNS server" in (run.record.error or "")
    assert "load started" not in stack.journal and stack.journal[-1] == "stack released"


def test_a_reused_stack_that_differs_from_the_scenario_is_exit_2(tmp_path: Path) -> None:
    # What acquire_stack raises for --reuse-stack on another config (tests/unit/test_run_stackuse).
    refusal = UsageError("--reuse-stack: scenario asks web_replicas 2, the running stack"
                         " 'default' has 1")  # fmt: skip
    stack = FakeStack(fail_acquire=refusal)
    code, run, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_USAGE and run.record.slos == []
    assert "scenario asks web_replicas 2" in (run.record.error or "")
    assert stack.journal == ["connected"]


def test_the_collect_step_adds_the_failover_managers_events_from_the_primary_series(
    tmp_path: Path,
) -> None:
    from harness.record import Series
    from harness.slo.charts import CHARTS, PRIMARY_CHART

    [(primary_q, _)] = next(c for c in CHARTS if c.key == PRIMARY_CHART).queries
    t = time.time()
    east = {"shard": "1", "region": "us-east", "service": "shard-1-us-east"}
    west = {"shard": "1", "region": "us-west", "service": "shard-1-us-west"}
    ranges: dict[str, Any] = {
        primary_q: [
            Series(labels=east, points=[(t + s, 0.0 if s < 3 else 1.0) for s in range(6)]),
            Series(labels=west, points=[(t + s, 1.0 if s < 2 else 0.0) for s in range(6)]),
        ]
    }
    stack = FakeStack(prom=FakeProm(instant=[({}, 0.01)], ranges=ranges))
    code, _, _ = execute(tmp_path, stack, slos=[ERROR_RATIO])
    assert code == EXIT_OK
    saved = load_record(tmp_path)
    failover = [(e.t - t, e.kind, e.message) for e in saved.events if e.fault is None][-2:]
    assert failover == [
        (2.0, "demoted", "shard 1: shard-1-us-west demoted"),
        (3.0, "promoted", "shard 1: shard-1-us-east promoted"),
    ]
    assert len(saved.series[PRIMARY_CHART]) == 2
