"""Patroni's configuration of each shard node: timings, addresses over the WAN, the witness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.patroni import (
    LOOP_WAIT_S,
    NODE_SETTING,
    RETRY_TIMEOUT_S,
    TTL_S,
    leader_key,
    patroni_config,
    patroni_yaml,
)

NODES = [(shard, region) for shard in range(t.SHARD_COUNT) for region in t.REGIONS]
WEB = Path(__file__).resolve().parents[2] / "target-stack" / "app" / "web.py"


def dcs(config: dict[str, Any]) -> dict[str, Any]:
    return config["bootstrap"]["dcs"]  # type: ignore[no-any-return]


def test_a_primary_cut_off_from_the_witness_demotes_before_the_other_side_may_promote() -> None:
    # Patroni's rule: loop_wait + 2 * retry_timeout <= ttl
    timings = dcs(patroni_config(StackConfig(), 0, "us-east"))
    assert (timings["ttl"], timings["loop_wait"], timings["retry_timeout"]) == (
        TTL_S,
        LOOP_WAIT_S,
        RETRY_TIMEOUT_S,
    )
    assert timings["loop_wait"] + 2 * timings["retry_timeout"] <= timings["ttl"]
    # and a failover fits a scenario of a minute or two
    assert timings["ttl"] <= 30


@pytest.mark.parametrize(("shard", "region"), NODES)
def test_a_node_is_reached_from_the_other_region_through_its_wan_links(
    shard: int, region: str
) -> None:
    config = patroni_config(StackConfig(), shard, region)
    assert config["scope"] == f"shard-{shard}"
    assert config["name"] == t.shard_node(shard, region)
    assert config["namespace"] == t.PATRONI_NAMESPACE
    # what it advertises is the proxy the other region uses, never its own name on its site
    pg, api = t.wan_pg_link(shard, region), t.wan_api_link(shard, region)
    assert config["postgresql"]["connect_address"] == f"toxiproxy:{pg.listen_port}"
    assert config["restapi"]["connect_address"] == f"toxiproxy:{api.listen_port}"
    assert pg.upstream == f"{config['name']}:{t.SHARD_PORT}"
    assert api.upstream == f"{config['name']}:{t.PATRONI_PORT}"
    assert config["postgresql"]["listen"] == f"0.0.0.0:{t.SHARD_PORT}"
    assert config["restapi"]["listen"] == f"0.0.0.0:{t.PATRONI_PORT}"


@pytest.mark.parametrize(("shard", "region"), NODES)
def test_a_node_reaches_etcd_only_through_its_regions_witness_link(shard: int, region: str) -> None:
    etcd = patroni_config(StackConfig(), shard, region)["etcd3"]
    assert etcd["hosts"] == [f"toxiproxy:{t.witness_link(region).listen_port}"]
    # a proxy, not a member: no discovery of etcd's own (unreachable) address
    assert etcd["use_proxies"] is True
    assert etcd["protocol"] == "http"


def test_the_leader_key_is_where_patroni_keeps_the_shards_lock() -> None:
    config = patroni_config(StackConfig(), 2, "us-west")
    assert (
        leader_key(2) == f"{config['namespace']}{config['scope']}/leader" == "/chaos/shard-2/leader"
    )


@pytest.mark.parametrize(
    ("stack", "synchronous"),
    [
        (StackConfig(), True),
        (StackConfig(replication="async"), False),
        (StackConfig(bugs=frozenset({"async_replication"})), False),
        (StackConfig(replication="async", bugs=frozenset({"async_replication"})), False),
    ],
    ids=["sync", "async", "sync with the async_replication bug", "async with the bug"],
)
def test_synchronous_mode_follows_the_stacks_replication(
    stack: StackConfig, synchronous: bool
) -> None:
    for shard, region in NODES:
        assert dcs(patroni_config(stack, shard, region))["synchronous_mode"] is synchronous


def test_a_returning_old_primary_can_rejoin_as_a_standby() -> None:
    postgresql = dcs(patroni_config(StackConfig(), 0, "us-east"))["postgresql"]
    assert postgresql["use_pg_rewind"] is True
    assert postgresql["parameters"]["wal_log_hints"] == "on"  # pg_rewind needs it


@pytest.mark.parametrize(("shard", "region"), NODES)
def test_every_node_names_itself_in_a_setting_the_web_tier_reads(shard: int, region: str) -> None:
    parameters = patroni_config(StackConfig(), shard, region)["postgresql"]["parameters"]
    assert parameters[NODE_SETTING] == t.shard_node(shard, region)
    assert f"current_setting('{NODE_SETTING}', true)" in WEB.read_text()


def test_the_yaml_written_into_the_container_is_the_config() -> None:
    config = StackConfig(replication="async", primaries="us-west")
    text = patroni_yaml(config, 3, "us-east")
    assert text.endswith("\n")
    assert json.loads(text) == patroni_config(config, 3, "us-east")  # JSON is YAML


@pytest.mark.parametrize(("shard", "region"), NODES)
def test_a_standby_whose_stream_failed_retries_within_a_second(shard: int, region: str) -> None:
    # A fresh standby from the seed asks for its slot before its leader's next loop makes it;
    # with PostgreSQL's default 5 s it would stream (and `up` end) 5 s late.
    parameters = patroni_config(StackConfig(), shard, region)["postgresql"]["parameters"]
    assert parameters["wal_retrieve_retry_interval"] == "1s"
