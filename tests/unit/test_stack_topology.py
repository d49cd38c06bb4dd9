"""The links between sites (the WAN) and inside each region, and the WAN's baseline latency."""

from __future__ import annotations

import pytest

from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.spec import services as stack_services
from harness.stack.wan import WAN_TOXIC_PREFIX, wan_toxics
from harness.vocabulary import all_services, region_of_node, regional_services


def test_every_link_has_a_unique_name_and_port_and_the_vocabularys_name() -> None:
    links = t.all_links()
    assert [link.name for link in links] == list(t.LINK_NAMES)
    assert len({link.name for link in links}) == len(links)
    assert len({link.listen_port for link in links}) == len(links)
    assert {link.kind for link in links} == {"edge", "queue", "shard", "wan", "witness"}


def test_the_wan_reaches_every_shard_nodes_postgres_and_patroni_from_the_other_region() -> None:
    wan = t.wan_links()
    assert len(wan) == 2 * len(t.REGIONS) * t.SHARD_COUNT
    for region in t.REGIONS:
        other = t.other_region(region)
        for shard in range(t.SHARD_COUNT):
            node = t.shard_node(shard, region)
            pg, api = t.wan_pg_link(shard, region), t.wan_api_link(shard, region)
            assert (pg.upstream, api.upstream) == (f"{node}:5432", f"{node}:{t.PATRONI_PORT}")
            # its clients are in the other region
            assert pg.region == api.region == other
            assert pg.shard == api.shard == shard
            assert pg in wan and api in wan


def test_each_region_reaches_its_own_copies_and_the_witness_through_its_own_links() -> None:
    for region in t.REGIONS:
        assert t.queue_link(region).upstream == f"queue-{region}:6379"
        assert [t.shard_link(s, region).upstream for s in range(t.SHARD_COUNT)] == [
            f"shard-{s}-{region}:5432" for s in range(t.SHARD_COUNT)
        ]
        witness = t.witness_link(region)
        assert (witness.kind, witness.region, witness.upstream) == (
            "witness",
            region,
            f"witness:{t.WITNESS_PORT}",
        )


@pytest.mark.parametrize("region", t.REGIONS)
def test_isolation_cuts_every_wan_link_and_only_the_regions_witness_link(region: str) -> None:
    cut = t.isolation_links(region)
    names = {link.name for link in cut}
    assert {link.name for link in t.wan_links()} <= names
    assert f"witness-{region}" in names
    assert f"witness-{t.other_region(region)}" not in names  # the other side keeps the witness
    # its users' entry and its links inside the region are not part of it
    assert not names & {link.name for region_ in t.REGIONS for link in t.region_links(region_)}
    assert len(cut) == len(t.wan_links()) + 1
    # with two regions, every WAN link has an end in the region
    for link in cut:
        if link.kind == "wan":
            node_region = region_of_node(link.upstream.split(":")[0])
            assert region in (link.region, node_region), link.name


@pytest.mark.parametrize("shard", range(t.SHARD_COUNT))
def test_shard_links_are_every_way_into_the_shards_nodes(shard: int) -> None:
    links = t.shard_links(shard)
    assert [link.name for link in links] == [
        f"shard{shard}-us-east",
        f"shard{shard}-us-west",
        f"wan-shard{shard}-us-east",
        f"wan-shard{shard}-us-west",
    ]
    assert all(link.shard == shard for link in links)
    assert {link.upstream for link in links} == {f"shard-{shard}-{r}:5432" for r in t.REGIONS}
    # into PostgreSQL only: Patroni's API is not where the load's queries go
    assert not any(link.upstream.endswith(f":{t.PATRONI_PORT}") for link in links)


def test_the_other_region() -> None:
    assert t.other_region("us-east") == "us-west"
    assert t.other_region("us-west") == "us-east"


def test_the_wan_latency_is_on_both_streams_of_every_link_between_sites() -> None:
    toxics = wan_toxics(35)
    crossing = [*t.wan_links(), *t.witness_links()]
    assert {(b.link, b.stream) for b in toxics} == {
        (link.name, stream) for link in crossing for stream in ("upstream", "downstream")
    }
    assert len(toxics) == 2 * len(crossing)
    for toxic in toxics:
        assert toxic.type == "latency"
        assert toxic.attributes == {"latency": 35, "jitter": 0}
        assert toxic.name == f"{WAN_TOXIC_PREFIX}-{toxic.stream}"
    # nothing inside a region pays it
    inside = {link.name for r in t.REGIONS for link in t.region_links(r)}
    assert not inside & {b.link for b in toxics}


@pytest.mark.parametrize("latency_ms", [0, -1])
def test_no_wan_latency_means_no_baseline_toxics(latency_ms: int) -> None:
    assert wan_toxics(latency_ms) == []


def test_a_shard_nodes_region_is_read_from_its_name() -> None:
    assert region_of_node("shard-0-us-east") == "us-east"
    assert region_of_node(t.shard_node(3, "us-west")) == "us-west"
    assert region_of_node("queue-us-east") is None  # not a shard node
    assert region_of_node("shard-0") is None


def test_a_regions_services_are_its_entry_tiers_queue_and_copy_of_every_shard() -> None:
    assert regional_services("us-west") == [
        "entry-us-west",  # first: its users notice its loss at once
        "web-us-west",
        "worker-us-west",
        "queue-us-west",
        *(f"shard-{s}-us-west" for s in range(t.SHARD_COUNT)),
    ]
    services = all_services()
    assert len(services) == len(set(services))
    assert {"witness", "dns", "entry-us-east", "queue-us-east", "shard-3-us-west"} <= set(services)
    assert "geo-router" not in services
    # every service a fault may name is a service the bundled stack has, and vice versa
    assert set(services) == set(stack_services(StackConfig()))
