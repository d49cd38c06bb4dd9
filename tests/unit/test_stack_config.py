"""StackConfig's data-centre settings: placement, replication, the WAN, and its label."""

from __future__ import annotations

import json

import pytest

from harness.stack import topology as t
from harness.stack.config import DEFAULT_WAN_LATENCY_MS, StackConfig, differences


def test_spread_primaries_alternate_over_the_regions() -> None:
    config = StackConfig()
    assert config.primaries == "spread"
    assert [config.primary_region(s) for s in range(t.SHARD_COUNT)] == [
        "us-east",
        "us-west",
        "us-east",
        "us-west",
    ]


@pytest.mark.parametrize("region", t.REGIONS)
def test_primaries_in_one_region_put_every_shards_primary_there(region: str) -> None:
    config = StackConfig(primaries=region)
    assert {config.primary_region(s) for s in range(t.SHARD_COUNT)} == {region}


def test_replication_is_synchronous_unless_async_or_the_seeded_bug_says_otherwise() -> None:
    assert StackConfig().synchronous is True
    assert StackConfig(replication="async").synchronous is False
    assert StackConfig(bugs=frozenset({"async_replication"})).synchronous is False
    assert StackConfig(bugs=frozenset({"stale_reads"})).synchronous is True


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"replication": "semi"}, "replication must be one of"),
        ({"primaries": "eu-west"}, "primaries must be one of"),
    ],
)
def test_unknown_replication_or_placement_is_rejected(fields: dict[str, str], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        StackConfig(**fields)  # type: ignore[arg-type]


def test_the_label_round_trips_the_data_centre_fields() -> None:
    config = StackConfig(
        name="lab",
        wan_latency_ms=80,
        replication="async",
        primaries="us-west",
        bugs=frozenset({"stale_reads", "async_replication"}),
    )
    label = json.loads(config.as_json())
    assert (label["wan_latency_ms"], label["replication"], label["primaries"]) == (
        80,
        "async",
        "us-west",
    )
    assert StackConfig.from_json(config.as_json(), name="lab") == config


def test_a_label_from_before_the_data_centre_fields_reads_as_the_defaults() -> None:
    old = json.dumps(
        {"web_replicas": 1, "workers_per_region": 2, "bugs": [], "reclaim_idle_ms": 5000}
    )
    config = StackConfig.from_json(old, name="lab")
    assert (config.wan_latency_ms, config.replication, config.primaries) == (
        DEFAULT_WAN_LATENCY_MS,
        "sync",
        "spread",
    )


def test_differences_name_the_wan_latency_replication_and_placement() -> None:
    wanted = StackConfig(wan_latency_ms=80, replication="async", primaries="us-east")
    assert differences(wanted, StackConfig()) == [
        ("wan_latency_ms", "80", str(DEFAULT_WAN_LATENCY_MS)),
        ("replication", "async", "sync"),
        ("primaries", "us-east", "spread"),
    ]
    assert differences(StackConfig(), StackConfig()) == []
