"""The scenario models: defaults, limits, the fault union, SLO objectives, service names."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from harness.faults import SPECS
from harness.faults.kinds.consumer_death import ConsumerDeathSpec
from harness.faults.kinds.container_kill import ContainerKillSpec
from harness.faults.kinds.latency import LatencySpec
from harness.faults.kinds.region_outage import RegionOutageSpec
from harness.faults.kinds.shard_hotspot import ShardHotspotSpec
from harness.faults.kinds.wan_partition import WanPartitionSpec
from harness.faults.spec import FaultSpec, LinkSpec, ToxicSpec, spec_type
from harness.scenario.loader import parse_scenario
from harness.scenario.model import Load, Scenario, StackOverrides, service_names
from harness.scenario.slo_model import SLO, Bound, RecoverBound

DESIGN_EXAMPLE = """
name: region-outage
description: us-east goes dark for 60 s; its users must be served by us-west.
stack: {web_replicas: 1, workers_per_region: 2}
load: {users: 100, spawn_rate: 50, duration: 180s, geography: {us-east: 70, us-west: 30},
       tasks: {read_user: 6, create_user: 1, submit_photo: 3}, seed: 7}
faults:
  - {type: region_outage, region: us-east, at: 60s, duration: 60s}
slos:
  - {name: errors while us-east is down, phase: fault, error_ratio: {max: 0.05}}
  - {name: steady p95, phase: steady, latency_p95_ms: {max: 300}}
  - {name: custom, phase: recovery, promql: 'sum(rate(locust_requests_total[$window]))', max: 10}
invariants: [no_lost_writes, no_lost_jobs]
"""

LOAD = {"users": 10, "spawn_rate": 5, "duration": "1m", "geography": {"us-east": 100}}
KINDS = [
    "region_outage", "consumer_death", "shard_hotspot", "latency", "bandwidth", "timeout",
    "reset_peer", "slow_close", "slicer", "limit_data", "link_down", "container_kill",
    "container_stop", "container_pause", "wan_partition", "wan_latency",
]  # fmt: skip


def _errors(model: type[BaseModel], data: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [dict(e) for e in info.value.errors()]


def test_design_example_is_valid() -> None:
    scenario = Scenario.model_validate(yaml.safe_load(DESIGN_EXAMPLE))
    assert scenario.load.duration == 180.0
    assert scenario.load.geography == {"us-east": 70, "us-west": 30}
    (fault,) = scenario.faults
    assert isinstance(fault, RegionOutageSpec)
    assert (fault.at, fault.duration, fault.mode) == (60.0, 60.0, "network")
    assert [slo.objective for slo in scenario.slos] == ["error_ratio", "latency_p95_ms", "promql"]
    assert parse_scenario(DESIGN_EXAMPLE, "design.yaml") == scenario  # plannable as well


def test_defaults() -> None:
    scenario = Scenario.model_validate({"name": "x", "load": LOAD})
    assert scenario.stack == StackOverrides(web_replicas=1, workers_per_region=2, bugs=[])
    assert scenario.load.tasks == {"read_user": 6, "create_user": 1, "submit_photo": 3}
    assert scenario.load.seed == 1
    assert (scenario.faults, scenario.slos, scenario.invariants) == ([], [], [])


def test_models_build_with_keywords() -> None:
    scenario = Scenario(
        name="kw",
        load=Load(users=5, spawn_rate=1, duration=30, geography={"us-west": 100}),
        faults=[LatencySpec(link="edge-us-west", latency_ms=100, at=5, duration=10)],
        slos=[SLO(name="p95", phase="fault", latency_p95_ms=Bound(max=400))],
    )
    assert scenario.faults[0].type == "latency"
    assert scenario.faults[0].targets() == ("link:edge-us-west",)


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Scenario, {"name": "x", "load": LOAD, "extra": 1}),
        (StackOverrides, {"web_replica": 2}),
        (Load, {**LOAD, "user": 1}),
        (SLO, {"name": "x", "phase": "run", "error_ratio": {"max": 1}, "typo": 1}),
        (Bound, {"max": 1, "maxx": 2}),
        *((SPECS[kind], {"type": kind, "at": 0, "duration": 1, "bogus": 1}) for kind in KINDS),
    ],
)
def test_unknown_keys_are_forbidden(model: type[BaseModel], data: dict[str, Any]) -> None:
    assert "extra_forbidden" in [e["type"] for e in _errors(model, data)]


@pytest.mark.parametrize(
    ("load", "error"),
    [
        ({"users": 0}, "greater_than"),
        ({"users": -5}, "greater_than"),
        ({"spawn_rate": 0}, "greater_than"),
        ({"duration": "0s"}, "greater_than"),
        ({"duration": "10x"}, "duration"),
        ({"geography": {"us-east": 60, "us-west": 30}}, "geography_sum"),
        ({"geography": {"us-east": 101}}, "less_than_equal"),
        ({"geography": {"eu-west": 100}}, "unknown_name"),
        ({"tasks": {"read_user": 0}}, "no_task"),
        ({"tasks": {"dance": 1}}, "literal_error"),
    ],
)
def test_load_limits(load: dict[str, Any], error: str) -> None:
    assert error in [e["type"] for e in _errors(Load, {**LOAD, **load})]


def test_geography_hint_shows_the_sum() -> None:
    (error,) = _errors(Load, {**LOAD, "geography": {"us-east": 60, "us-west": 30}})
    assert error["ctx"]["hint"].startswith("us-east 60 + us-west 30 = 90")


def test_registry_has_one_module_per_kind() -> None:
    assert sorted(SPECS) == sorted(KINDS)
    for kind, spec in SPECS.items():
        assert spec_type(spec) == kind
        assert spec.__module__ == f"harness.faults.kinds.{kind}"
        assert issubclass(spec, FaultSpec)


@pytest.mark.parametrize("kind", [k for k in KINDS if issubclass(SPECS[k], ToxicSpec)])
def test_toxic_kinds_share_link_stream_toxicity(kind: str) -> None:
    fields = SPECS[kind].model_fields
    assert {"link", "stream", "toxicity"} <= set(fields)
    assert fields["stream"].default == "downstream"
    assert fields["toxicity"].default == 1.0


def test_link_down_has_a_link_but_no_toxic_fields() -> None:
    assert issubclass(SPECS["link_down"], LinkSpec)
    assert "stream" not in SPECS["link_down"].model_fields


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"type": "region_outage", "region": "us-west"}, RegionOutageSpec),
        ({"type": "consumer_death"}, ConsumerDeathSpec),
        ({"type": "shard_hotspot", "shard": 2, "share": 0.6}, ShardHotspotSpec),
        ({"type": "container_kill", "service": "queue-us-east"}, ContainerKillSpec),
        ({"type": "container_kill", "service": "shard-3-us-west"}, ContainerKillSpec),
        ({"type": "wan_partition", "region": "us-east"}, WanPartitionSpec),
    ],
)
def test_fault_union_picks_the_kind_by_type(fault: dict[str, Any], kind: type) -> None:
    data = {"name": "x", "load": LOAD, "faults": [{**fault, "at": "5s", "duration": "10s"}]}
    assert isinstance(Scenario.model_validate(data).faults[0], kind)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"type": "region_outage", "region": "mars"}, "unknown_name"),
        ({"type": "region_outage", "region": "us-east", "mode": "flood"}, "literal_error"),
        ({"type": "wan_partition", "region": "mars"}, "unknown_name"),
        ({"type": "wan_partition"}, "missing"),
        ({"type": "consumer_death", "count": 0}, "worker_count"),
        ({"type": "consumer_death", "count": "some"}, "worker_count"),
        ({"type": "shard_hotspot", "shard": 4, "share": 0.5}, "less_than_equal"),
        ({"type": "shard_hotspot", "shard": 1, "share": 0}, "greater_than"),
        ({"type": "shard_hotspot", "shard": 1, "share": 0.5, "celebrities": 51}, "less_than_equal"),
        ({"type": "latency", "link": "edge-us-east", "latency_ms": -1}, "greater_than_equal"),
        ({"type": "latency", "link": "edge-mars", "latency_ms": 1}, "unknown_name"),
        ({"type": "bandwidth", "link": "queue-us-east", "rate_kbps": 1, "toxicity": 2},
         "less_than_equal"),
        ({"type": "slicer", "link": "queue-us-east", "average_size": 0}, "greater_than_equal"),
        ({"type": "limit_data", "link": "queue-us-east", "bytes": 0}, "greater_than_equal"),
        ({"type": "timeout", "link": "queue-us-east", "timeout_ms": 1, "stream": "sideways"},
         "literal_error"),
        ({"type": "explode"}, "union_tag_invalid"),
    ],
)  # fmt: skip
def test_fault_fields_are_checked(fault: dict[str, Any], error: str) -> None:
    data = {"name": "x", "load": LOAD, "faults": [{"at": 1, "duration": 1, **fault}]}
    assert error in [e["type"] for e in _errors(Scenario, data)]


def test_fault_timing_limits() -> None:
    base = {"type": "link_down", "link": "edge-us-east"}
    assert "greater_than_equal" in [
        e["type"] for e in _errors(SPECS["link_down"], {**base, "at": -1, "duration": 1})
    ]
    assert "greater_than" in [
        e["type"] for e in _errors(SPECS["link_down"], {**base, "at": 0, "duration": 0})
    ]


def test_consumer_death_counts() -> None:
    assert ConsumerDeathSpec(at=0, duration=1, count=2).count == 2
    death = ConsumerDeathSpec(at=0, duration=1)
    assert (death.region, death.count, death.restart) == ("all", "all", True)
    assert death.regions() == ("us-east", "us-west")


def test_service_names_follow_the_stack() -> None:
    names = service_names(StackOverrides(web_replicas=2, workers_per_region=3))
    assert names[:16] == [
        "dns",
        "toxiproxy",
        "prometheus",
        "witness",
        # each region's entry
        "entry-us-east",
        "entry-us-west",
        "queue-us-east",
        "queue-us-west",
        # every shard has a node in each region
        "shard-0-us-east",
        "shard-0-us-west",
        "shard-1-us-east",
        "shard-1-us-west",
        "shard-2-us-east",
        "shard-2-us-west",
        "shard-3-us-east",
        "shard-3-us-west",
    ]
    assert "queue" not in names and "shard-0" not in names  # the single-DC names are gone
    assert {"web-us-east", "web-us-east-1", "web-us-east-2", "web-us-west-2"} <= set(names)
    assert "web-us-east-3" not in names
    assert {"worker-us-west", "worker-us-west-3"} <= set(names)
    assert "worker-us-west-4" not in names
    assert len(names) == 16 + 2 * (1 + 2) + 2 * (1 + 3)
    assert "geo-router" not in names
    assert len(set(names)) == len(names)


def test_unknown_service_is_rejected_with_the_valid_names() -> None:
    fault = {"type": "container_kill", "service": "worker-us-east-3", "at": 1, "duration": 1}
    (error,) = _errors(Scenario, {"name": "x", "load": LOAD, "faults": [fault]})
    (problem,) = error["ctx"]["problems"]
    assert problem.path == ("faults", 0, "service")
    assert "worker-us-east-2" in problem.hint
    ok = {"name": "x", "load": LOAD, "stack": {"workers_per_region": 3}, "faults": [fault]}
    assert Scenario.model_validate(ok).faults[0].service == "worker-us-east-3"


@pytest.mark.parametrize(
    ("slo", "error"),
    [
        ({}, "slo_objective"),
        ({"error_ratio": {"max": 0.1}, "latency_p95_ms": {"max": 300}}, "slo_objective"),
        ({"error_ratio": {}}, "bound_missing"),
        ({"error_ratio": {"max": 0.1, "region": "mars"}}, "unknown_name"),
        ({"error_ratio": {"max": 0.1}, "max": 3}, "slo_bound_place"),
        ({"promql": "up"}, "bound_missing"),
        ({"server_error_ratio": {"tier": "shard", "max": 0.1}}, "literal_error"),
        ({"time_to_recover_s": {"max": 10, "from": "middle"}}, "literal_error"),
        ({"queue_backlog_max": {"max": 1, "region": "us-east"}}, "extra_forbidden"),
        (
            {"server_latency_p95_ms": {"tier": "web", "shard": 2, "max": 9}},
            "shard_needs_shard_tier",
        ),
        ({"server_latency_p95_ms": {"tier": "shard", "shard": 4, "max": 9}}, "less_than"),
        ({"server_latency_p95_ms": {"tier": "shard"}}, "bound_missing"),
        ({"latency_p95_ms": {"max": 9, "request": "delete_user"}}, "literal_error"),
        ({"error_ratio": {"max": 0.1}, "fault": 0}, "slo_fault_phase"),
    ],
)
def test_slo_needs_exactly_one_valid_objective(slo: dict[str, Any], error: str) -> None:
    assert error in [e["type"] for e in _errors(SLO, {"name": "s", "phase": "run", **slo})]


def test_slo_objective_error_lists_the_valid_keys() -> None:
    (error,) = _errors(SLO, {"name": "s", "phase": "run"})
    assert "error_ratio" in error["ctx"]["hint"] and "promql" in error["ctx"]["hint"]


@pytest.mark.parametrize(
    "slo",
    [
        {"server_latency_p95_ms": {"tier": "shard", "max": 50}},
        {"server_error_ratio": {"tier": "entry", "max": 0.01}},
        {"throughput_min_rps": {"min": 20, "region": "us-west"}},
        {"backlog_drained_within_s": {"max": 30}},
        {"promql": "sum(rate(x[$window]))", "min": 1},
        {"server_latency_p95_ms": {"tier": "shard", "shard": 3, "min": 20}},
        {"latency_p95_ms": {"max": 300, "request": "submit_photo", "region": "us-east"}},
        {"time_to_recover_s": {"max": 9, "region": "us-east"}},
    ],
)
def test_slo_objectives_accepted(slo: dict[str, Any]) -> None:
    assert SLO.model_validate({"name": "s", "phase": "run", **slo}).objective == next(iter(slo))


def test_an_slo_narrowed_to_one_fault_names_its_window() -> None:
    base = {"name": "s", "error_ratio": {"max": 0.1}}
    assert SLO.model_validate({**base, "phase": "fault"}).window == "fault"
    assert SLO.model_validate({**base, "phase": "recovery", "fault": 1}).window == "recovery[1]"


def test_time_to_recover_reads_from_by_its_alias() -> None:
    slo = SLO.model_validate(
        {"name": "t", "phase": "run", "time_to_recover_s": {"max": 9, "from": "end"}}
    )
    assert slo.time_to_recover_s == RecoverBound(max=9, fault=0, from_="end", level=0.01)


def test_the_stack_block_defaults_to_sync_replication_spread_primaries_a_coast_wan() -> None:
    stack = StackOverrides()
    assert (stack.wan_latency_ms, stack.replication, stack.primaries) == (35, "sync", "spread")
    chosen = StackOverrides(wan_latency_ms=0, replication="async", primaries="us-west")
    assert (chosen.wan_latency_ms, chosen.replication, chosen.primaries) == (0, "async", "us-west")


@pytest.mark.parametrize(
    ("stack", "error"),
    [
        ({"wan_latency_ms": -1}, "greater_than_equal"),
        ({"wan_latency_ms": 1001}, "less_than_equal"),
        ({"replication": "semi-sync"}, "literal_error"),
        ({"primaries": "eu-west"}, "literal_error"),
    ],
)
def test_the_stack_blocks_data_centre_fields_are_checked(stack: dict[str, Any], error: str) -> None:
    assert error in [e["type"] for e in _errors(StackOverrides, stack)]


def test_the_scenario_offers_exactly_the_stacks_seeded_bugs() -> None:
    from typing import get_args

    from harness.scenario.model import Bug
    from harness.stack.config import BUGS

    assert set(get_args(Bug)) == set(BUGS)


def test_the_schemas_service_pattern_takes_every_service_and_no_single_dc_name() -> None:
    import re

    from harness.faults.spec import ServiceSpec

    pattern = ServiceSpec.model_json_schema()["properties"]["service"]["pattern"]
    for name in service_names(StackOverrides(web_replicas=3, workers_per_region=3)):
        assert re.match(pattern, name), name
    stale_names = [
        *("queue", "shard-0", "shard-4-us-east", "queue-eu-west", "witness-us-east"),
        *("geo-router", "entry", "entry-eu-west", "entry-us-east-1", "dns-us-east"),
    ]
    for stale in stale_names:
        assert not re.match(pattern, stale), stale
