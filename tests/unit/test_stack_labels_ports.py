"""Label handling and port discovery, without Docker."""

import socket
import subprocess
import sys

import pytest

from harness.stack import labels
from harness.stack.endpoints import endpoints_from_ports, host_port, parse_published


def test_container_labels_carry_stack_owner_and_service() -> None:
    got = labels.container_labels("s1", "up", service="web-us-east", instance="web-us-east-1")
    assert got[labels.STACK] == "s1"
    assert got[labels.OWNER] == "up"
    assert got[labels.SERVICE] == "web-us-east"
    assert got[labels.INSTANCE] == "web-us-east-1"


def test_stack_filter_selects_one_stack_or_all() -> None:
    assert labels.stack_filter("x") == {"label": ["io.chaos-harness.stack=x"]}
    assert labels.stack_filter() == {"label": ["io.chaos-harness.stack"]}


def test_owner_of_a_live_process_is_not_dead() -> None:
    assert not labels.owner_is_dead(labels.run_owner())


def test_owner_of_an_exited_process_is_dead() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert labels.owner_is_dead(labels.run_owner(pid=proc.pid))


@pytest.mark.parametrize(
    "owner",
    ["up", "", "run:other-host:1", f"run:{socket.gethostname()}:notapid", "weird"],
)
def test_owners_we_cannot_judge_are_left_alone(owner: str) -> None:
    assert not labels.owner_is_dead(owner)


def test_parse_published_keeps_loopback_bindings() -> None:
    attrs = {
        "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}],
        "8405/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49154"}],
        "9999/tcp": None,
        "7000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "1234"}],
    }
    assert parse_published(attrs) == {8080: 49153, 8405: 49154}


def test_parse_published_keeps_every_loopback_address_and_udp() -> None:
    """The entries' edges are published on loopback addresses of their own, at one port; the
    DNS server on 127.0.0.1 for TCP and UDP at one port."""
    attrs = {
        "20000/tcp": [{"HostIp": "127.0.1.1", "HostPort": "41000"}],
        "20001/tcp": [{"HostIp": "127.0.2.1", "HostPort": "41000"}],
        "53/tcp": [{"HostIp": "127.0.0.1", "HostPort": "41001"}],
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "41001"}],
        "8474/tcp": [{"HostIp": "", "HostPort": "41002"}],
        "7000/tcp": [{"HostIp": "10.0.0.5", "HostPort": "41003"}],
        "7001/tcp": [{"HostIp": "::", "HostPort": "41004"}],
    }
    assert parse_published(attrs) == {20000: 41000, 20001: 41000, 53: 41001, 8474: 41002}


def ports_fixture() -> dict[str, dict[int, int]]:
    return {
        "dns": {53: 40001, 8081: 40002},
        "prometheus": {9090: 40003},
        # the API, and each region's edge (on the region's own address) at one shared port
        "toxiproxy": {8474: 40004, 20000: 40050, 20001: 40050},
        **{f"entry-{r}": {8405: 40060 + i} for i, r in enumerate(("us-east", "us-west"))},
        "queue-us-east": {6379: 40005},
        "queue-us-west": {6379: 40006},
        **{f"shard-{s}-us-east": {5432: 40010 + s, 8008: 40030 + s} for s in range(4)},
        **{f"shard-{s}-us-west": {5432: 40020 + s, 8008: 40040 + s} for s in range(4)},
    }


def test_endpoints_are_loopback_urls_from_discovered_ports() -> None:
    ep = endpoints_from_ports(ports_fixture(), gateway="172.20.0.1")
    # each region's entry on its own loopback address, at the port its edge link shares
    assert ep.entries == {"us-east": "http://127.0.1.1:40050", "us-west": "http://127.0.2.1:40050"}
    assert ep.entry_port == 40050
    assert ep.dns == "127.0.0.1:40001"  # the DNS port (UDP and TCP), not its metrics port
    assert ep.prometheus == "http://127.0.0.1:40003"
    assert ep.toxiproxy == "http://127.0.0.1:40004"
    assert ep.queues == {
        "us-east": "redis://127.0.0.1:40005/0",
        "us-west": "redis://127.0.0.1:40006/0",
    }
    # per shard, its nodes in region order
    assert ep.shards[2] == (
        "postgresql://harness@127.0.0.1:40012/harness",
        "postgresql://harness@127.0.0.1:40022/harness",
    )
    assert len(ep.shards) == 4 and all(len(nodes) == 2 for nodes in ep.shards)
    assert ep.as_dict()["gateway"] == "172.20.0.1"
    assert ep.wan_latency_ms == 0  # unless told what the stack was started with
    assert (
        endpoints_from_ports(ports_fixture(), gateway="g", wan_latency_ms=35).wan_latency_ms == 35
    )


def test_a_missing_shard_node_names_it() -> None:
    ports = ports_fixture()
    del ports["shard-1-us-west"]
    with pytest.raises(KeyError, match="shard-1-us-west publishes no port 5432"):
        endpoints_from_ports(ports, gateway="g")


def test_a_stack_without_its_dns_server_or_edges_names_what_is_missing() -> None:
    ports = ports_fixture()
    del ports["dns"]
    with pytest.raises(KeyError, match="dns publishes no port 53"):
        endpoints_from_ports(ports, gateway="g")
    ports = ports_fixture()
    ports["toxiproxy"] = {8474: 40004}
    with pytest.raises(KeyError, match="toxiproxy publishes no port 20000"):
        endpoints_from_ports(ports, gateway="g")


def test_missing_port_names_the_instance() -> None:
    ports = ports_fixture()
    del ports["prometheus"]
    with pytest.raises(KeyError, match="prometheus publishes no port 9090"):
        endpoints_from_ports(ports, gateway="g")
    with pytest.raises(KeyError, match="queue-us-east publishes no port 1"):
        host_port(ports, "queue-us-east", 1)
