"""The planner: phases and fault offsets as plain data, and the plans it refuses."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from harness.errors import EXIT_USAGE
from harness.plan import MIN_RECOVERY_S, Phase, PlanError, plan, plan_problems
from harness.scenario.model import Scenario

LOAD = {"users": 10, "spawn_rate": 5, "duration": "90s", "geography": {"us-east": 100}}


def scenario(faults: list[dict[str, Any]] = (), **extra: Any) -> Scenario:  # type: ignore[assignment]
    return Scenario.model_validate({"name": "p", "load": LOAD, "faults": list(faults), **extra})


def link_down(link: str, at: float, duration: float) -> dict[str, Any]:
    return {"type": "link_down", "link": link, "at": at, "duration": duration}


def slo(phase: str, **objective: Any) -> dict[str, Any]:
    return {"name": phase, "phase": phase, **(objective or {"error_ratio": {"max": 0.1}})}


def spans(phases: dict[str, Phase]) -> dict[str, tuple[float, float]]:
    return {name: (p.start_s, p.end_s) for name, p in phases.items()}


def test_without_faults_steady_is_the_whole_run() -> None:
    timeline = plan(scenario())
    assert timeline.duration_s == 90
    assert spans(timeline.phases) == {"run": (0, 90), "steady": (0, 90)}
    assert timeline.faults == []


def test_phases_and_offsets_with_one_fault() -> None:
    timeline = plan(scenario([link_down("edge-us-east", 30, 20)]))
    assert spans(timeline.phases) == {
        "run": (0, 90),
        "steady": (0, 30),
        "fault": (30, 50),
        "recovery": (50, 90),
        "fault[0]": (30, 50),
        "recovery[0]": (50, 90),
    }
    (fault,) = timeline.faults
    assert (fault.index, fault.start_s, fault.end_s, fault.spec.type) == (0, 30, 50, "link_down")
    assert timeline.phases["recovery"].window_s == 40


def test_fault_phase_spans_every_fault_and_the_gaps() -> None:
    faults = [link_down("edge-us-east", "40s", "10s"), link_down("edge-us-west", "10s", "5s")]
    timeline = plan(scenario(faults))
    assert spans(timeline.phases)["steady"] == (0, 10)
    assert spans(timeline.phases)["fault"] == (10, 50)
    assert [(f.index, f.start_s, f.end_s) for f in timeline.faults] == [(0, 40, 50), (1, 10, 15)]


def test_each_fault_has_its_own_window_and_recovery_until_the_next_fault() -> None:
    faults = [link_down("edge-us-east", "40s", "10s"), link_down("edge-us-west", "10s", "5s")]
    phases = spans(plan(scenario(faults)).phases)
    assert phases["fault[1]"] == (10, 15)
    assert phases["recovery[1]"] == (15, 40)  # until faults[0] starts
    assert phases["fault[0]"] == (40, 50)
    assert phases["recovery[0]"] == (50, 90)


def test_an_slo_narrowed_to_a_missing_fault_is_a_plan_problem() -> None:
    bad = scenario([link_down("edge-us-east", 30, 20)], slos=[{**slo("fault"), "fault": 2}])
    problems = plan_problems(bad)
    assert [(p.path, p.hint) for p in problems] == [(("slos", 0, "fault"), "valid indices: 0..0")]
    assert "no '2' fault" in problems[0].message


def test_a_per_fault_recovery_too_short_is_a_plan_problem() -> None:
    faults = [link_down("edge-us-east", "10s", "10s"), link_down("edge-us-west", "22s", "5s")]
    bad = scenario(faults, slos=[{**slo("recovery"), "fault": 0}])
    (problem,) = plan_problems(bad)
    assert problem.path == ("slos", 0, "fault")
    assert "recovery[0] window lasts only 2s" in problem.message


def test_plan_is_pure_data() -> None:
    one = scenario([link_down("edge-us-east", 30, 20)])
    assert plan(one) == plan(one)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan(one).duration_s = 1  # type: ignore[misc]


def test_faults_ending_exactly_at_the_end_and_back_to_back_are_fine() -> None:
    faults = [link_down("edge-us-east", 0, 45), link_down("edge-us-east", 45, 45)]
    assert plan_problems(scenario(faults)) == []


def _only_problem(s: Scenario) -> tuple[tuple[str | int, ...], str, str | None]:
    problems = plan_problems(s)
    assert len(problems) == 1, problems
    return problems[0]


REJECTED: dict[str, tuple[Scenario, tuple[str | int, ...], str]] = {
    "fault after the run": (
        scenario([link_down("edge-us-east", 80, 15)]),
        ("faults", 0, "duration"),
        "ends at 1m35s, 5s after the load ends",
    ),
    "short recovery with an SLO": (
        scenario([link_down("edge-us-east", 80, 8)], slos=[slo("recovery")]),
        ("slos", 0, "phase"),
        "recovery phase lasts only 2s",
    ),
    "short recovery with invariants": (
        scenario([link_down("edge-us-east", 80, 8)], invariants=["no_lost_jobs"]),
        ("invariants",),
        "recovery phase lasts only 2s",
    ),
    "fault phase without faults": (
        scenario(slos=[slo("fault")]),
        ("slos", 0, "phase"),
        "'fault' does not exist",
    ),
    "recovery phase without faults": (
        scenario(slos=[slo("run"), slo("recovery")]),
        ("slos", 1, "phase"),
        "'recovery' does not exist",
    ),
    "empty steady phase": (
        scenario([link_down("edge-us-east", 0, 10)], slos=[slo("steady")]),
        ("slos", 0, "phase"),
        "steady phase is empty",
    ),
    "overlap on one link": (
        scenario(
            [
                link_down("shard1-us-west", 10, 20),
                {
                    "type": "latency",
                    "link": "shard1-us-west",
                    "latency_ms": 5,
                    "at": 20,
                    "duration": 5,
                },
            ]
        ),
        ("faults", 1),
        "faults[0] (link_down, 10s-30s) on link shard1-us-west",
    ),
    "overlap on a service and its instance": (
        scenario(
            [
                {
                    "type": "container_pause",
                    "service": "worker-us-east-2",
                    "at": 10,
                    "duration": 20,
                },
                {"type": "container_kill", "service": "worker-us-east", "at": 5, "duration": 10},
            ]
        ),
        ("faults", 1),
        "faults[0] (container_pause, 10s-30s) on service worker-us-east-2",
    ),
    "two faults on one region": (
        scenario(
            [
                {"type": "region_outage", "region": "us-west", "at": 10, "duration": 20},
                {"type": "consumer_death", "at": 20, "duration": 20},
            ]
        ),
        ("faults", 1),
        "on region us-west",
    ),
    "region outage and a fault on one of its links": (
        scenario(
            [
                {"type": "region_outage", "region": "us-east", "at": 10, "duration": 20},
                {
                    "type": "shard_hotspot",
                    "shard": 3,
                    "share": 0.5,
                    "latency_ms": 5,
                    "at": 5,
                    "duration": 20,
                },
            ]
        ),
        ("faults", 1),
        # the outage cuts the WAN link into the shard's us-east node, which the hotspot slows
        "on link wan-shard3-us-east",
    ),
    "wan partition and a fault on the cut-off region's witness link": (
        scenario(
            [
                {"type": "wan_partition", "region": "us-west", "at": 10, "duration": 20},
                {"type": "link_down", "link": "witness-us-west", "at": 20, "duration": 5},
            ]
        ),
        ("faults", 1),
        "faults[0] (wan_partition, 10s-30s) on link witness-us-west",
    ),
    "time to recover from a missing fault": (
        scenario(
            [link_down("edge-us-east", 10, 10)],
            slos=[slo("run", time_to_recover_s={"max": 10, "fault": 1})],
        ),
        ("slos", 0, "time_to_recover_s", "fault"),
        "there is no faults[1]",
    ),
    "write RTO of a missing fault": (
        scenario(
            [link_down("edge-us-east", 10, 10)],
            slos=[slo("run", write_unavailable_s={"max": 10, "fault": 1})],
        ),
        ("slos", 0, "write_unavailable_s", "fault"),
        "there is no faults[1]",
    ),
    "write RTO without any fault": (
        scenario(slos=[slo("run", write_unavailable_s={"max": 10})]),
        ("slos", 0, "write_unavailable_s", "fault"),
        "there is no faults[0]",
    ),
}


@pytest.mark.parametrize("case", REJECTED.values(), ids=REJECTED.keys())
def test_impossible_plans_are_rejected(case: tuple[Scenario, tuple[str | int, ...], str]) -> None:
    bad, path, needle = case
    problem = _only_problem(bad)
    assert problem[0] == path
    assert needle in problem[1]
    assert problem[2]
    with pytest.raises(PlanError) as info:
        plan(bad)
    assert info.value.exit_code == EXIT_USAGE
    assert needle in info.value.render()


@pytest.mark.parametrize(
    "faults",
    [
        [link_down("edge-us-east", 10, 20), link_down("edge-us-west", 10, 20)],
        [link_down("edge-us-east", 10, 20), link_down("edge-us-east", 30, 20)],
        [
            {"type": "container_kill", "service": "worker-us-east-1", "at": 10, "duration": 20},
            {"type": "container_kill", "service": "worker-us-east-2", "at": 10, "duration": 20},
        ],
        [
            {
                "type": "region_outage",
                "region": "us-east",
                "mode": "stop",
                "at": 10,
                "duration": 20,
            },
            {"type": "latency", "link": "edge-us-west", "latency_ms": 5, "at": 10, "duration": 20},
        ],
        [
            {"type": "shard_hotspot", "shard": 1, "share": 0.5, "at": 10, "duration": 20},
            {"type": "link_down", "link": "shard1-us-east", "at": 10, "duration": 20},
        ],
        [
            {"type": "wan_partition", "region": "us-west", "at": 10, "duration": 20},
            {"type": "link_down", "link": "edge-us-west", "at": 10, "duration": 20},
        ],
    ],
    ids=[
        "two links",
        "one link, one after the other",
        "two instances",
        "two regions",
        "hotspot without latency",
        "wan partition leaves the region's entry alone",
    ],
)
def test_faults_on_different_targets_may_overlap(faults: list[dict[str, Any]]) -> None:
    assert plan_problems(scenario(faults)) == []


def test_recovery_of_exactly_the_minimum_is_enough() -> None:
    end = 90 - MIN_RECOVERY_S
    ok = scenario(
        [link_down("edge-us-east", 10, end - 10)],
        slos=[slo("recovery")],
        invariants=["no_lost_jobs"],
    )
    assert plan(ok).phases["recovery"].window_s == MIN_RECOVERY_S


def test_every_problem_is_listed() -> None:
    bad = scenario([link_down("edge-us-east", 0, 100)], slos=[slo("steady")])
    assert [p.path for p in plan_problems(bad)] == [("faults", 0, "duration"), ("slos", 0, "phase")]
