"""A fault's window opens at its first change to the stack and closes when its removal is done.

The FaultContext wraps the ports it is given, so the first change of any kind is stamped and
every change counted; the scheduler records both the first effect and the end of the apply
step, and the removal's start and end; the phases, SLO windows and chart bands use the window.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

import harness.faults  # noqa: F401  (registers every kind)
from harness.errors import InfraError
from harness.faults.effects import FaultEffects, StampedContainers, StampedLinks
from harness.faults.runtime import inject
from harness.faults.spec import fault_union
from harness.plan import ScheduledFault
from harness.record import FaultRecord
from harness.run.phases import actual_phases
from harness.run.scheduler import FaultScheduler
from tests.fakes import FakeClock, FakeContainers, default_services, make_context

FAULT = TypeAdapter(fault_union())


def scheduled(index: int = 0, start: float = 10, end: float = 40, **fields: Any) -> ScheduledFault:
    spec = FAULT.validate_python({"at": start, "duration": end - start, **fields})
    return ScheduledFault(index=index, spec=spec, start_s=start, end_s=end)


def test_the_context_wraps_raw_ports_so_no_kind_changes_the_stack_unstamped() -> None:
    ctx, tox, containers, _ = make_context()
    assert isinstance(ctx.links, StampedLinks) and ctx.links.inner is tox
    assert isinstance(ctx.containers, StampedContainers) and ctx.containers.inner is containers
    worker = ctx.containers.instances("worker-us-east")[0]
    ctx.containers.wait_worker_busy(worker, 1.0)
    assert ctx.effects.first_at is None  # looking and waiting change nothing
    ctx.containers.kill(worker)
    ctx.links.set_enabled("edge-us-east", False)
    ctx.links.set_enabled("edge-us-east", True)
    assert ctx.effects.first_at is not None
    assert ctx.effects.counts == {"container_killed": 1, "link_disabled": 1, "link_enabled": 1}


def test_the_first_effect_is_stamped_before_the_change_is_made() -> None:
    clock = FakeClock()
    clock.now = 100.0
    containers = FakeContainers(default_services(), clock=clock, step_s=2.0)
    seen: list[tuple[float, list[str]]] = []
    effects = FaultEffects(clock=clock, on_first=lambda at: seen.append((at, containers.down())))
    ctx, _, _, _ = make_context(containers=containers, effects=effects)
    with inject(scheduled(type="container_stop", service="worker-us-east").spec, ctx):
        assert clock.now == 104.0  # two stops of 2 s each
    assert seen == [(100.0, [])]  # the window opened before anything was down
    assert effects.first_at == 100.0


def run_region_stop(clock: FakeClock) -> tuple[FaultScheduler, list[tuple[str, float]]]:
    """A region_outage (mode: stop) of us-east on a clock where each container takes 2 s to
    stop or start: entry-us-east, web-us-east-1, worker-us-east-1, worker-us-east-2,
    queue-us-east and the region's copy of each of the four shards (nine containers)."""
    containers = FakeContainers(default_services(), clock=clock, step_s=2.0)
    changes: list[tuple[str, float]] = []

    def make(fault: ScheduledFault, effects: FaultEffects) -> Any:
        ctx, _, _, _ = make_context(containers=containers, effects=effects)
        return inject(fault.spec, ctx)

    fault = scheduled(type="region_outage", region="us-east", mode="stop")
    scheduler = FaultScheduler(
        [fault], make, clock=clock, on_change=lambda r: changes.append((r.status, clock.now))
    )
    clock.now = 1010.0
    scheduler.tick(10)
    clock.now = 1040.0
    scheduler.tick(40)
    return scheduler, changes


def test_a_multi_step_apply_records_its_first_effect_before_it_was_fully_applied() -> None:
    scheduler, changes = run_region_stop(FakeClock())
    record = scheduler.records[0]
    assert record.first_effect_at == 1010.0  # right before the first container stopped
    assert record.applied_at == 1028.0  # nine stops later
    assert record.removal_started_at == 1040.0
    assert record.removed_at == 1058.0  # nine starts later
    assert record.effects == {"container_stopped": 9, "container_started": 9}
    assert changes == [
        ("applying", 1010.0), ("applied", 1028.0), ("removing", 1040.0), ("removed", 1058.0),
    ]  # fmt: skip


def test_phases_start_at_the_first_effect_and_end_when_the_removal_is_done() -> None:
    scheduler, _ = run_region_stop(FakeClock())
    phases = {p.name: (p.start, p.end) for p in actual_phases(1000, 1100, [scheduler.records[0]])}
    assert phases["steady"] == (1000, 1010.0)
    assert phases["fault"] == phases["fault[0]"] == (1010.0, 1058.0)
    assert phases["recovery"] == (1058.0, 1100)


@pytest.mark.parametrize("state", ["applying", "applied", "removing"])
def test_a_fault_is_in_effect_from_its_first_effect_until_its_removal_is_done(state: str) -> None:
    record = FaultRecord(index=0, type="t", target="x", planned_start_s=0, planned_end_s=1)
    assert not record.in_effect
    assert record.model_copy(update={"status": state}).in_effect
    assert not record.model_copy(update={"status": "removed"}).in_effect


def test_a_record_without_a_first_effect_opens_its_window_when_applied() -> None:
    # A load-side hotspot changes nothing through the ports; records from before this field.
    old = FaultRecord(index=0, type="t", target="x", planned_start_s=0, planned_end_s=1)
    assert old.window_start is None
    assert old.model_copy(update={"applied_at": 5.0}).window_start == 5.0
    both = old.model_copy(update={"applied_at": 5.0, "first_effect_at": 3.0})
    assert both.window_start == 3.0
    partial = old.model_copy(update={"first_effect_at": 3.0, "status": "failed"})
    assert partial.window_start is None  # never applied: no window, the run is an error


def test_consumer_death_that_caught_no_job_is_an_infra_error_naming_the_fault() -> None:
    containers = FakeContainers(default_services(), busy=False)

    def make(fault: ScheduledFault, effects: FaultEffects) -> Any:
        ctx, _, _, _ = make_context(containers=containers, effects=effects)
        return inject(fault.spec, ctx)

    fault = scheduled(type="consumer_death", region="us-east")
    scheduler = FaultScheduler([fault], make)
    with pytest.raises(InfraError) as caught:
        scheduler.tick(10)
    assert caught.value.message == (
        "consumer_death (faults[0]) killed 2 workers, none inside a job: the fault did not bite"
    )
    assert caught.value.exit_code == 3 and "submit_photo" in (caught.value.hint or "")
    record = scheduler.records[0]
    assert record.status == "failed" and record.applied_at is None
    assert record.effects == {"container_killed": 2, "killed_idle": 2, "container_started": 2}
    assert containers.down() == [] and scheduler.active == []


def test_consumer_death_records_how_many_kills_landed_inside_a_job() -> None:
    containers = FakeContainers(default_services(), idle={"worker-us-west-2"})

    def make(fault: ScheduledFault, effects: FaultEffects) -> Any:
        ctx, _, _, _ = make_context(containers=containers, effects=effects)
        return inject(fault.spec, ctx)

    scheduler = FaultScheduler([scheduled(type="consumer_death", region="all")], make)
    scheduler.tick(10)
    effects = scheduler.records[0].effects
    assert (effects["killed_in_job"], effects["killed_idle"]) == (3, 1)
    scheduler.heal()
    assert scheduler.records[0].effects["container_started"] == 4
