"""The fault scheduler: apply at offset, remove at end, heal on exception and on signal."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import TypeAdapter

from harness.errors import InfraError
from harness.faults.effects import FaultEffects
from harness.faults.spec import fault_union
from harness.plan import ScheduledFault
from harness.run.phases import actual_phases
from harness.run.scheduler import FaultScheduler
from harness.run.signals import Terminated, deferred_interrupts, interrupts_raise

FAULT = TypeAdapter(fault_union())


def sched(index: int, start: float, end: float, **fields: Any) -> ScheduledFault:
    fields = fields or {"type": "link_down", "link": f"shard{index}-us-east"}
    spec = FAULT.validate_python({"at": start, "duration": end - start, **fields})
    return ScheduledFault(index=index, spec=spec, start_s=start, end_s=end)


class Log:
    def __init__(self, fail_apply: set[int] | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail_apply = fail_apply or set()

    def make(self, fault: ScheduledFault, effects: FaultEffects) -> Any:
        @contextmanager
        def cm() -> Iterator[None]:
            if fault.index in self.fail_apply:
                raise RuntimeError("cannot apply")
            self.calls.append(("apply", fault.index))
            try:
                yield
            finally:
                self.calls.append(("remove", fault.index))

        return cm()


def test_faults_apply_and_remove_at_their_offsets() -> None:
    log, now = Log(), [100.0]
    s = FaultScheduler([sched(0, 5, 10), sched(1, 8, 20)], log.make, clock=lambda: now[0])
    s.tick(4.9)
    assert log.calls == []
    assert s.next_due() == 5
    now[0] = 105.01
    s.tick(5.01)
    assert log.calls == [("apply", 0)]
    assert s.records[0].applied_at == 105.01 and s.records[0].status == "applied"
    s.tick(9)
    assert log.calls == [("apply", 0), ("apply", 1)]
    assert s.next_due() == 10
    now[0] = 110.0
    s.tick(10)
    assert log.calls[-1] == ("remove", 0)
    assert s.records[0].removed_at == 110.0
    s.tick(25)
    assert log.calls[-1] == ("remove", 1)
    assert s.next_due() is None and s.active == []


def test_a_fault_that_cannot_be_applied_is_an_infra_error_naming_it() -> None:
    log = Log(fail_apply={1})
    s = FaultScheduler([sched(0, 0, 10), sched(1, 1, 5)], log.make)
    s.tick(0)
    with pytest.raises(InfraError, match=r"fault 1 .*link_down.*shard1-us-east"):
        s.tick(1)
    assert s.records[1].status == "failed"
    assert s.heal() == []
    assert log.calls == [("apply", 0), ("remove", 0)]


def test_heal_removes_every_active_fault_newest_first() -> None:
    log = Log()
    s = FaultScheduler([sched(0, 0, 10), sched(1, 1, 10), sched(2, 50, 60)], log.make)
    s.tick(2)
    assert s.heal() == []
    assert log.calls[-2:] == [("remove", 1), ("remove", 0)]
    s.tick(55)  # pending faults are dropped by heal: nothing applies after it
    assert ("apply", 2) not in log.calls


def test_sigterm_during_a_fault_window_heals_through_finally() -> None:
    log = Log()
    s = FaultScheduler([sched(0, 0, 10)], log.make)
    with pytest.raises(Terminated), interrupts_raise():
        try:
            s.tick(0)
            os.kill(os.getpid(), signal.SIGTERM)
            raise AssertionError("SIGTERM did not interrupt")
        finally:
            s.heal()
    assert log.calls == [("apply", 0), ("remove", 0)]


def test_handlers_are_restored_after_the_block() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with interrupts_raise():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_during_healing_waits_until_healing_is_done() -> None:
    healed = []
    with pytest.raises(Terminated), deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        healed.append("all")  # still runs: the signal is held
    assert healed == ["all"]


def test_actual_phases_follow_recorded_fault_times() -> None:
    s = FaultScheduler([sched(0, 10, 20)], Log().make)
    rec = s.records[0]
    rec.applied_at, rec.removed_at = 1010.3, 1020.4
    phases = {p.name: (p.start, p.end) for p in actual_phases(1000, 1060, [rec])}
    assert phases == {
        "run": (1000, 1060),
        "steady": (1000, 1010.3),
        "fault": (1010.3, 1020.4),
        "recovery": (1020.4, 1060),
        "fault[0]": (1010.3, 1020.4),
        "recovery[0]": (1020.4, 1060),
    }


def test_per_fault_windows_use_each_faults_recorded_times() -> None:
    s = FaultScheduler([sched(0, 10, 20), sched(1, 40, 50)], Log().make)
    first, second = s.records[0], s.records[1]
    first.applied_at, first.removed_at = 1010.3, 1020.4
    second.applied_at = 1040.2  # never recorded as removed: holds its window to the load's end
    phases = {p.name: (p.start, p.end) for p in actual_phases(1000, 1060, [first, second])}
    assert phases["fault"] == (1010.3, 1060)
    assert phases["fault[0]"] == (1010.3, 1020.4)
    assert phases["recovery[0]"] == (1020.4, 1040.2)
    assert phases["fault[1]"] == (1040.2, 1060)
    assert phases["recovery[1]"] == (1060, 1060)


def test_without_applied_faults_there_is_only_steady_and_run() -> None:
    s = FaultScheduler([sched(0, 10, 20)], Log().make)
    names = [p.name for p in actual_phases(0, 60, list(s.records.values()))]
    assert names == ["run", "steady"]
