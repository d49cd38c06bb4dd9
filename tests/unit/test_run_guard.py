"""The run guard's rules, one row a case: what counts as a run that did not happen as planned."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from harness.errors import EXIT_INFRA, RunDeviated
from harness.load.progress import Progress
from harness.load.settings import LoadSettings
from harness.record import FaultRecord
from harness.run.guard import FAULT_LATE_S, LOAD_EARLY_S, SPAWN_GRACE_S, LoadPlan, RunGuard

PLAN = LoadPlan(users=20, spawn_rate=10, duration_s=30, run_dir=Path("/runs/r1"))


def fault(index: int = 0, late_s: float | None = None) -> FaultRecord:
    return FaultRecord(index=index, type="latency", target="shard0-us-west", planned_start_s=10,
                       planned_end_s=18, late_s=late_s)  # fmt: skip


def users(n: int) -> Progress:
    return Progress(elapsed_s=1, users=n, rps=1, failures_pct=0, p95_ms=None)


@pytest.mark.parametrize(
    ("elapsed", "code", "never_ran", "said"),
    [
        (8.0, -9, [], "was killed by signal 9 (SIGKILL) at 8.0 s of the 30 s load, 22.0 s early"),
        (8.0, 0, [], "exited with code 0 at 8.0 s of the 30 s load, 22.0 s early"),
        (30.0, 2, [], "exited with code 2 (a crash"),
        (30.0, None, [], "exited with no readable exit code"),
        (29.5, 0, [fault()], "faults that never ran: 0 (latency on shard0-us-west, due at 10 s)"),
    ],
    ids=["SIGKILL 8 s in", "clean exit 22 s early", "crash code", "no code", "a fault never ran"],
)
def test_the_end_of_the_load_must_be_as_planned(
    elapsed: float, code: int | None, never_ran: list[FaultRecord], said: str
) -> None:
    with pytest.raises(RunDeviated) as caught:
        RunGuard(PLAN).check_end(elapsed, code, never_ran)
    assert said in caught.value.message and "the run is not judged" in caught.value.message
    assert caught.value.exit_code == EXIT_INFRA
    assert "/runs/r1/locust.log" in (caught.value.hint or "")
    assert "\n" not in caught.value.message  # one line


@pytest.mark.parametrize(
    ("elapsed", "code"),
    [(30.0, 0), (30.0, 1), (30.0 - LOAD_EARLY_S + 0.1, 0)],
    ids=["on time", "failed requests are for the SLOs", "within LOAD_EARLY_S"],
)
def test_a_load_that_ran_to_its_end_passes(elapsed: float, code: int) -> None:
    RunGuard(PLAN).check_end(elapsed, code, [])


def test_users_are_checked_once_due_and_the_peak_counts() -> None:
    due = 20 / 10 + SPAWN_GRACE_S
    guard = RunGuard(PLAN)
    guard.saw(users(12))
    guard.check_users(due - 0.1)  # not due yet: nothing said
    with pytest.raises(RunDeviated, match="ran at most 12 of 20 planned users"):
        guard.check_users(due)
    ok = RunGuard(PLAN)
    ok.saw(users(20))
    ok.saw(users(3))  # the peak counts: users are not judged again after the ramp
    ok.check_users(due)


def test_a_fault_begun_late_is_a_deviation() -> None:
    guard = RunGuard(PLAN)
    guard.check_faults([fault(late_s=FAULT_LATE_S), fault(1, late_s=None)])
    with pytest.raises(RunDeviated, match=r"fault 0 \(latency on shard0-us-west\) began 2.5 s"):
        guard.check_faults([fault(late_s=FAULT_LATE_S + 0.5)])


def test_the_plan_counts_the_locust_users_the_runner_starts() -> None:
    closed = SimpleNamespace(users=20, spawn_rate=10.0, duration_s=30.0)
    plan = LoadPlan.of(cast(LoadSettings, closed), processes=2, run_dir=Path("r"))
    assert (plan.users, plan.spawn_rate) == (20, 10.0)
    # The open model runs one scheduler user per process (harness.load.arrivals on main).
    opened = SimpleNamespace(users=20, spawn_rate=10.0, duration_s=30.0, model="open")
    plan = LoadPlan.of(cast(LoadSettings, opened), processes=2, run_dir=Path("r"))
    assert (plan.users, plan.spawn_rate) == (2, 2.0)
