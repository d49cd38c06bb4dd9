"""Each fault kind's apply and remove calls, against fakes of Toxiproxy and Docker."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

import harness.faults  # noqa: F401  (registers every kind)
from harness.errors import InfraError
from harness.faults.runtime import FaultDidNotBite, inject
from harness.faults.spec import SPECS, FaultSpec, fault_union
from harness.stack import topology as t
from tests.fakes import make_context

FAULT = TypeAdapter(fault_union())


def spec(**fields: Any) -> FaultSpec:
    return FAULT.validate_python({"at": 0, "duration": 1, **fields})  # type: ignore[no-any-return]


def test_every_fault_type_has_a_runtime() -> None:
    # A kind registers once, by its spec class, which carries its own inject().
    assert all(kind.inject is not FaultSpec.inject for kind in SPECS.values())


TOXICS = [
    ({"type": "latency", "link": "shard2-us-east", "latency_ms": 100, "jitter_ms": 5},
     "latency", {"latency": 100, "jitter": 5}),
    ({"type": "bandwidth", "link": "edge-us-west", "rate_kbps": 10}, "bandwidth", {"rate": 10}),
    ({"type": "timeout", "link": "queue-us-east", "timeout_ms": 0}, "timeout", {"timeout": 0}),
    ({"type": "reset_peer", "link": "queue-us-east", "timeout_ms": 50}, "reset_peer",
     {"timeout": 50}),
    ({"type": "slow_close", "link": "edge-us-east", "delay_ms": 300}, "slow_close",
     {"delay": 300}),
    ({"type": "slicer", "link": "edge-us-east", "average_size": 64, "size_variation": 8,
      "delay_us": 10}, "slicer", {"average_size": 64, "size_variation": 8, "delay": 10}),
    ({"type": "limit_data", "link": "shard0-us-west", "bytes": 1000}, "limit_data",
     {"bytes": 1000}),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "toxic_type", "attributes"), TOXICS)
def test_toxic_faults_add_one_toxic_and_remove_it(
    fields: dict[str, Any], toxic_type: str, attributes: dict[str, Any]
) -> None:
    ctx, tox, _, _ = make_context()
    link = fields["link"]
    with inject(spec(**fields), ctx):
        (toxic,) = tox.toxics[link].values()
        assert toxic["type"] == toxic_type
        assert toxic["attributes"] == attributes
        assert sum(len(v) for v in tox.toxics.values()) == 1
    assert tox.dirty() == []


def test_toxic_keeps_stream_and_toxicity() -> None:
    ctx, tox, _, _ = make_context()
    fields = {"type": "latency", "link": "edge-us-east", "latency_ms": 1, "stream": "upstream",
              "toxicity": 0.5}  # fmt: skip
    with inject(spec(**fields), ctx):
        (toxic,) = tox.toxics["edge-us-east"].values()
        assert (toxic["stream"], toxic["toxicity"]) == ("upstream", 0.5)


def test_region_outage_network_cuts_the_regions_entry_the_wan_and_its_witness_link() -> None:
    ctx, tox, containers, _ = make_context()
    with inject(spec(type="region_outage", region="us-east"), ctx):
        down = sorted(n for n, e in tox.enabled.items() if not e)
        wan = [link.name for link in t.wan_links()]
        assert down == sorted(["edge-us-east", *wan, "witness-us-east"])
        # The region keeps running: its links inside the region stay up, and so does the
        # other region's entry and its way to the witness.
        assert not {"queue-us-east", "shard0-us-east", "edge-us-west", "witness-us-west"} & {*down}
        assert containers.down() == []
    assert tox.dirty() == []


def test_region_outage_network_cuts_the_witness_first_and_the_users_entry_last() -> None:
    """The links go one by one: a region whose primaries still reached the witness while
    their standbys' streams ended took those standbys out of Patroni's /sync key, and the
    other region could promote nothing (topology.isolation_links)."""
    ctx, tox, _, _ = make_context()
    with inject(spec(type="region_outage", region="us-west"), ctx):
        pass
    disabled = [name for verb, name in tox.calls if verb == "disable"]
    assert disabled[0] == "witness-us-west"
    assert set(disabled[1:-1]) == {link.name for link in t.wan_links()}
    assert disabled[-1] == "edge-us-west"
    assert len(disabled) == 1 + len(t.wan_links()) + 1


def test_a_wan_partition_cuts_the_witness_before_the_wan() -> None:
    ctx, tox, _, _ = make_context()
    with inject(spec(type="wan_partition", region="us-west"), ctx):
        pass
    disabled = [name for verb, name in tox.calls if verb == "disable"]
    assert disabled[0] == "witness-us-west"
    assert set(disabled[1:]) == {link.name for link in t.wan_links()}


def test_region_outage_stop_stops_every_container_of_the_region_and_starts_them_again() -> None:
    ctx, tox, containers, _ = make_context()
    with inject(spec(type="region_outage", region="us-west", mode="stop"), ctx):
        assert sorted(containers.down()) == sorted(
            [
                "entry-us-west",
                "web-us-west-1",
                "worker-us-west-1",
                "worker-us-west-2",
                "queue-us-west",
                *(f"shard-{s}-us-west" for s in range(t.SHARD_COUNT)),
            ]
        )
        assert tox.dirty() == []
    assert containers.down() == []
    stopped = [name for verb, name in containers.calls if verb == "stop"]
    started = [name for verb, name in containers.calls if verb == "start"]
    # the way in first (its users notice at once), then the web tier, workers and queue
    assert stopped[:5] == [
        "entry-us-west", "web-us-west-1", "worker-us-west-1", "worker-us-west-2", "queue-us-west",
    ]  # fmt: skip
    assert len(stopped) == 9  # and the region's copy of every shard
    assert not {"dns", "entry-us-east", "witness"} & {*stopped}
    assert started == list(reversed(stopped))  # the data tier back first, the web tier last


def test_wan_partition_cuts_the_wan_and_the_regions_witness_link_but_not_its_entry() -> None:
    ctx, tox, containers, events = make_context()
    with inject(spec(type="wan_partition", region="us-west"), ctx):
        down = sorted(n for n, e in tox.enabled.items() if not e)
        assert down == sorted(link.name for link in t.isolation_links("us-west"))
        assert "witness-us-west" in down and "witness-us-east" not in down
        assert tox.enabled["edge-us-west"] and tox.enabled["edge-us-east"]
        assert all(tox.enabled[link.name] for link in t.region_links("us-west"))
        assert containers.down() == []
    assert tox.dirty() == []
    assert [kind for kind, _ in events] == ["links_disabled", "links_enabled"]


def test_wan_partition_names_its_region_and_every_link_it_cuts() -> None:
    fault = spec(type="wan_partition", region="us-east")
    assert fault.targets() == (
        "region:us-east",
        *(f"link:{link.name}" for link in t.isolation_links("us-east")),
    )


@pytest.mark.parametrize(
    ("fields", "killed"),
    [
        ({"region": "us-east"}, ["worker-us-east-1", "worker-us-east-2"]),
        ({"region": "us-east", "count": 1}, ["worker-us-east-1"]),
        ({}, ["worker-us-east-1", "worker-us-east-2", "worker-us-west-1", "worker-us-west-2"]),
    ],
)
def test_consumer_death_kills_with_sigkill_and_restarts(
    fields: dict[str, Any], killed: list[str]
) -> None:
    ctx, _, containers, _ = make_context()
    with inject(spec(type="consumer_death", **fields), ctx):
        assert sorted(containers.down()) == killed
        assert {verb for verb, _ in containers.calls} == {"busy?", "kill"}
    assert containers.down() == []


def test_consumer_death_without_restart_leaves_them_dead() -> None:
    ctx, _, containers, _ = make_context()
    with inject(spec(type="consumer_death", region="us-west", restart=False), ctx):
        pass
    assert sorted(containers.down()) == ["worker-us-west-1", "worker-us-west-2"]


def test_shard_hotspot_adds_latency_on_every_link_into_the_shards_nodes() -> None:
    ctx, tox, _, events = make_context()
    with inject(spec(type="shard_hotspot", shard=2, share=0.5, latency_ms=40), ctx):
        slowed = sorted(n for n, ts in tox.toxics.items() if ts)
        # each region to its own copy, and each region to the other's copy over the WAN
        assert slowed == [
            "shard2-us-east", "shard2-us-west", "wan-shard2-us-east", "wan-shard2-us-west",
        ]  # fmt: skip
        assert all(
            toxic["attributes"] == {"latency": 40, "jitter": 0}
            for name in slowed
            for toxic in tox.toxics[name].values()
        )
    assert tox.dirty() == []
    assert any(kind == "hotspot" for kind, _ in events)


def test_shard_hotspot_without_latency_touches_no_link() -> None:
    ctx, tox, _, _ = make_context()
    with inject(spec(type="shard_hotspot", shard=1, share=0.5), ctx):
        assert tox.dirty() == []


@pytest.mark.parametrize(
    ("kind", "down_verb", "up_verb"),
    [("container_kill", "kill", "start"), ("container_stop", "stop", "start"),
     ("container_pause", "pause", "unpause")],
)  # fmt: skip
def test_container_faults_act_on_every_instance_of_a_service(
    kind: str, down_verb: str, up_verb: str
) -> None:
    ctx, _, containers, _ = make_context()
    with inject(spec(type=kind, service="worker-us-east"), ctx):
        assert sorted(containers.down()) == ["worker-us-east-1", "worker-us-east-2"]
    assert containers.down() == []
    verbs = [v for v, _ in containers.calls]
    assert verbs == [down_verb, down_verb, up_verb, up_verb]


def test_link_down_disables_and_reenables() -> None:
    ctx, tox, _, _ = make_context()
    with inject(spec(type="link_down", link="queue-us-west"), ctx):
        assert tox.enabled["queue-us-west"] is False
    assert tox.dirty() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "latency", "link": "edge-us-east", "latency_ms": 10},
        {"type": "region_outage", "region": "us-east"},
        {"type": "region_outage", "region": "us-east", "mode": "stop"},
        {"type": "consumer_death"},
        {"type": "container_pause", "service": "queue-us-east"},
        {"type": "wan_partition", "region": "us-west"},
        {"type": "shard_hotspot", "shard": 0, "share": 1, "latency_ms": 5},
    ],
)
def test_an_exception_inside_the_window_still_removes_the_fault(fields: dict[str, Any]) -> None:
    ctx, tox, containers, _ = make_context()
    with pytest.raises(RuntimeError, match="boom"), inject(spec(**fields), ctx):
        raise RuntimeError("boom")
    assert tox.dirty() == []
    assert containers.down() == []


def test_partial_apply_is_undone_when_one_link_fails() -> None:
    ctx, tox, _, _ = make_context()
    tox.fail_on = "wan-shard0-us-east"  # the second link region_outage cuts, after the witness
    with pytest.raises(InfraError), inject(spec(type="region_outage", region="us-east"), ctx):
        pass
    assert tox.calls[:2] == [("disable", "witness-us-east"), ("enable", "witness-us-east")]
    assert tox.dirty() == []


def test_consumer_death_kills_each_worker_while_it_holds_a_job() -> None:
    ctx, _, containers, events = make_context()
    with inject(spec(type="consumer_death", region="us-west", restart=False), ctx):
        pass
    # each victim is asked whether it is busy right before it is killed
    assert containers.calls == [
        ("busy?", "worker-us-west-1"), ("kill", "worker-us-west-1"),
        ("busy?", "worker-us-west-2"), ("kill", "worker-us-west-2"),
    ]  # fmt: skip
    assert ("worker_state", "worker-us-west-1 busy at kill") in events


def test_an_idle_worker_is_killed_after_the_mid_job_wait() -> None:
    ctx, _, containers, events = make_context()
    containers.idle = {"worker-us-east-1"}
    with inject(spec(type="consumer_death", region="us-east"), ctx):
        assert containers.down() == ["worker-us-east-1", "worker-us-east-2"]
    assert ("worker_state", "worker-us-east-1 idle at kill") in events
    assert ("worker_state", "worker-us-east-2 busy at kill") in events
    counts = ctx.effects.counts
    assert (counts["killed_in_job"], counts["killed_idle"], counts["container_killed"]) == (1, 1, 2)


@pytest.mark.parametrize("restart", [True, False])
def test_mid_job_kills_that_catch_no_job_did_not_bite(restart: bool) -> None:
    ctx, _, containers, _ = make_context()
    containers.busy = False
    fault = spec(type="consumer_death", region="us-east", restart=restart)
    with (
        pytest.raises(FaultDidNotBite, match=r"^killed 2 workers, none inside a job: the fault"),
        inject(fault, ctx),
    ):
        raise AssertionError("the block must not run: the fault did not bite")
    assert ctx.effects.counts["killed_idle"] == 2 and "killed_in_job" not in ctx.effects.counts
    # Leaving undoes what it did, as for any other failure of an apply.
    assert containers.down() == ([] if restart else ["worker-us-east-1", "worker-us-east-2"])
    assert isinstance(FaultDidNotBite("x"), InfraError)  # the run's exit code 3


def test_mid_job_false_kills_at_once() -> None:
    ctx, _, containers, _ = make_context()
    with inject(spec(type="consumer_death", region="us-east", mid_job=False), ctx):
        assert all(verb == "kill" for verb, _ in containers.calls)
