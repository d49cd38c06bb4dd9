"""Lifecycle logic against a fake Docker client: cleanup on failure, reaping, tear-down."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any

import pytest

from harness.errors import InfraError
from harness.stack import labels, lifecycle, teardown
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.spec import ContainerSpec, stack_spec
from harness.vocabulary import ENTRY_ADDRESSES
from tests.fakes import FakeDocker, FakeObj


@pytest.fixture(autouse=True)
def no_images(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "ensure_images", lambda client, progress: {})


def test_failed_start_removes_everything_it_created() -> None:
    client = FakeDocker(fail_create_after=5)
    with pytest.raises(InfraError, match="engine said no"):
        lifecycle.bring_up(client, StackConfig(name="t"), timeout_s=1, progress=lambda m: None)  # type: ignore[arg-type]
    assert client.containers.items == []
    assert client.networks.items == []
    assert client.volumes.items == []


def test_interrupt_while_waiting_removes_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*a: Any, **k: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(lifecycle, "wait_healthy", interrupted)
    client = FakeDocker()
    with pytest.raises(KeyboardInterrupt):
        lifecycle.bring_up(client, StackConfig(name="t"), timeout_s=1, progress=lambda m: None)  # type: ignore[arg-type]
    assert client.containers.items == client.networks.items == client.volumes.items == []


def test_created_objects_all_carry_stack_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[FakeDocker] = []

    def stop_after_create(client: FakeDocker, *a: Any, **k: Any) -> None:
        seen.append(client)
        raise InfraError("stop here")

    monkeypatch.setattr(lifecycle, "wait_healthy", stop_after_create)
    client = FakeDocker()
    snapshot: list[FakeObj] = []
    orig = lifecycle.tear_down

    def record_then_tear(c: Any, stack: str | None) -> str:
        snapshot.extend(client.containers.items + client.networks.items + client.volumes.items)
        return orig(c, stack)

    monkeypatch.setattr(lifecycle, "tear_down", record_then_tear)
    with pytest.raises(InfraError):
        lifecycle.bring_up(client, StackConfig(name="lab"), timeout_s=1, progress=lambda m: None)  # type: ignore[arg-type]
    # every container, a network per site, and the volumes of each region's queue and of
    # its copy of the four shards
    assert len(snapshot) == len(stack_spec(StackConfig())) + 3 + 2 * (1 + 4)
    assert all(o.labels[labels.STACK] == "lab" for o in snapshot)
    assert all(o.labels[labels.OWNER] == labels.OWNER_UP for o in snapshot)


def test_no_container_gets_a_docker_health_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each would be a `docker exec` every interval on the engine's CPU; the harness probes.
    def stop_after_create(*a: Any, **k: Any) -> None:
        raise InfraError("stop here")

    monkeypatch.setattr(lifecycle, "wait_healthy", stop_after_create)
    client = FakeDocker()
    configs: list[dict[str, Any]] = []
    orig = lifecycle.tear_down

    def record_then_tear(c: Any, stack: str | None) -> str:
        configs.extend(o.attrs["Config"] for o in client.containers.items)
        return orig(c, stack)

    monkeypatch.setattr(lifecycle, "tear_down", record_then_tear)
    with pytest.raises(InfraError):
        lifecycle.bring_up(client, StackConfig(name="hc"), timeout_s=1, progress=lambda m: None)  # type: ignore[arg-type]
    assert len(configs) == len(stack_spec(StackConfig()))
    assert not [c for c in configs if "Healthcheck" in c]


def test_each_container_is_on_its_sites_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    def stop_after_create(*a: Any, **k: Any) -> None:
        raise InfraError("stop here")

    monkeypatch.setattr(lifecycle, "wait_healthy", stop_after_create)
    client = FakeDocker()
    nets: dict[str, dict[str, Any]] = {}
    created: dict[str, str] = {}
    orig = lifecycle.tear_down

    def record_then_tear(c: Any, stack: str | None) -> str:
        nets.update({n.name: dict(n.attrs.get("Containers", {})) for n in client.networks.items})
        created.update(
            {o.name: o.attrs["HostConfig"]["NetworkMode"] for o in client.containers.items}
        )
        return orig(c, stack)

    monkeypatch.setattr(lifecycle, "tear_down", record_then_tear)
    with pytest.raises(InfraError):
        lifecycle.bring_up(client, StackConfig(name="lab"), timeout_s=1, progress=lambda m: None)  # type: ignore[arg-type]
    assert sorted(nets) == ["chaos-lab", "chaos-lab-us-east", "chaos-lab-us-west"]
    # created on its own (first) site's network: the witness site's is the stack's own
    assert created["chaos-lab-witness"] == "chaos-lab"
    assert created["chaos-lab-dns"] == "chaos-lab"
    assert created["chaos-lab-entry-us-east"] == "chaos-lab-us-east"
    assert created["chaos-lab-entry-us-west"] == "chaos-lab-us-west"
    assert created["chaos-lab-shard-0-us-west"] == "chaos-lab-us-west"
    assert created["chaos-lab-queue-us-east"] == "chaos-lab-us-east"
    assert created["chaos-lab-web-us-east-1"] == "chaos-lab-us-east"
    # and connected to every other site's: only the WAN (Toxiproxy) and the observer span sites
    spanning = ["chaos-lab-prometheus", "chaos-lab-toxiproxy"]
    for net, connected in nets.items():
        assert sorted(connected) == [c for c in spanning if created[c] != net]
    for name in spanning:
        on = {created[name], *(net for net, connected in nets.items() if name in connected)}
        assert on == set(nets)
    # Toxiproxy has one name on every site: the entries' edges are reached (by the DNS
    # server's checks too) as toxiproxy:<edge listen port>
    for net, connected in nets.items():
        if "chaos-lab-toxiproxy" in connected:
            assert connected["chaos-lab-toxiproxy"]["Aliases"] == ["toxiproxy"], net


def test_the_created_containers_publish_on_loopback_and_only_the_edges_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What bring_up asks Docker to publish: every port on 127.0.0.1 but each region's edge,
    which Toxiproxy publishes on that region's entry address, both at one host port."""
    monkeypatch.setattr(lifecycle, "wait_healthy", lambda *a, **k: None)
    monkeypatch.setattr(lifecycle, "wait_routed", lambda *a, **k: None)
    monkeypatch.setattr(lifecycle, "wait_replicated", lambda *a, **k: None)
    monkeypatch.setattr(lifecycle, "discover_endpoints", lambda *a: None)
    client = FakeDocker()
    lifecycle.bring_up(client, StackConfig(name="lab"), timeout_s=1, progress=lambda m: None)  # type: ignore[arg-type]
    bindings = {
        c.name.removeprefix("chaos-lab-"): c.attrs["HostConfig"]["PortBindings"]
        for c in client.containers.items
    }
    elsewhere = {
        (name, key): binding
        for name, ports in bindings.items()
        for key, binding in ports.items()
        if binding[0] != "127.0.0.1"
    }
    edge_port = {binding[1] for binding in elsewhere.values()}
    assert len(edge_port) == 1
    assert elsewhere == {
        ("toxiproxy", f"{t.edge_link(r).listen_port}/tcp"): (ENTRY_ADDRESSES[r], *edge_port)
        for r in t.REGIONS
    }
    dns = bindings["dns"]
    assert dns[f"{t.DNS_PORT}/udp"] == dns[f"{t.DNS_PORT}/tcp"]
    assert set(dns) == {f"{t.DNS_PORT}/tcp", f"{t.DNS_PORT}/udp", f"{t.DNS_METRICS_PORT}/tcp"}
    # and every container publishes what its spec says, nothing more
    for spec in stack_spec(StackConfig()):
        wanted = {f"{p}/tcp" for p in [*spec.publish, *spec.publish_udp, *spec.publish_on]}
        wanted |= {f"{p}/udp" for p in spec.publish_udp}
        assert set(bindings[spec.instance]) == wanted, spec.instance


def test_tear_down_touches_only_its_stack() -> None:
    client = FakeDocker()
    for stack in ("a", "b"):
        client.containers.create("img", name=f"c-{stack}", labels=labels.stack_labels(stack, "up"))
        client.networks.create(f"n-{stack}", labels=labels.stack_labels(stack, "up"))
    client.containers.create("img", name="foreign", labels={"other": "x"})
    summary = teardown.tear_down(client, "a")  # type: ignore[arg-type]
    assert summary == "1 containers, 1 networks, 0 volumes"
    assert [c.name for c in client.containers.items] == ["c-b", "foreign"]
    teardown.tear_down(client, None)  # type: ignore[arg-type]
    assert [c.name for c in client.containers.items] == ["foreign"]
    assert client.networks.items == []


def test_reap_removes_stacks_of_dead_runs_only() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    client = FakeDocker()
    client.containers.create(
        "i", name="d", labels=labels.stack_labels("dead", labels.run_owner(dead.pid))
    )
    client.containers.create("i", name="l", labels=labels.stack_labels("live", labels.run_owner()))
    client.containers.create("i", name="u", labels=labels.stack_labels("kept", labels.OWNER_UP))
    reaped = teardown.reap_orphans(client, progress=lambda m: None)  # type: ignore[arg-type]
    assert reaped == ["dead"]
    assert sorted(c.name for c in client.containers.items) == ["l", "u"]


def test_a_network_with_a_stale_endpoint_is_disconnected_then_removed() -> None:
    from harness.stack.teardown import _remove_network

    removed: list[str] = []

    class Stale:
        def __init__(self) -> None:
            self.attrs: dict[str, dict[str, object]] = {"Containers": {"gone-container-id": {}}}

        def reload(self) -> None:
            pass

        def disconnect(self, container: str, *, force: bool = False) -> None:
            assert force
            self.attrs["Containers"].pop(container)

        def remove(self) -> None:
            assert not self.attrs["Containers"], "has active endpoints"
            removed.append("net")

    _remove_network(Stale())  # type: ignore[arg-type]
    assert removed == ["net"]


def running_stack(client: FakeDocker, config_label: str | None) -> None:
    """A stack's containers as Docker lists them: published ports, and the config label."""
    ports = {
        "dns": {53: 40001, 8081: 40002},
        "prometheus": {9090: 40003},
        "toxiproxy": {8474: 40004, 20000: 40050, 20001: 40050},
        **{f"queue-{r}": {6379: 40005 + i} for i, r in enumerate(("us-east", "us-west"))},
        **{
            f"shard-{s}-{r}": {5432: 40010 + 10 * i + s, 8008: 40030 + 10 * i + s}
            for s in range(4)
            for i, r in enumerate(("us-east", "us-west"))
        },
    }
    for instance, published in ports.items():
        own = labels.container_labels("lab", "up", service=instance, instance=instance)
        if config_label is not None:
            own[lifecycle.CONFIG] = config_label
        container = client.containers.create("img", name=f"chaos-lab-{instance}", labels=own)
        host_ip = {20000: "127.0.1.1", 20001: "127.0.2.1"}  # the edges, on their own addresses
        container.attrs["NetworkSettings"] = {
            "Ports": {
                f"{port}/tcp": [{"HostIp": host_ip.get(port, "127.0.0.1"), "HostPort": str(host)}]
                for port, host in published.items()
            }
        }
    network = client.networks.create("chaos-lab", labels=labels.stack_labels("lab", "up"))
    network.attrs["IPAM"] = {"Config": [{"Gateway": "172.30.0.1"}]}


def test_discovered_endpoints_carry_the_wan_latency_the_stack_was_started_with() -> None:
    client = FakeDocker()
    running_stack(client, StackConfig(name="lab", wan_latency_ms=70).as_json())
    endpoints = lifecycle.discover_endpoints(client, "lab")  # type: ignore[arg-type]
    assert endpoints.wan_latency_ms == 70
    assert endpoints.gateway == "172.30.0.1"  # the witness site's network: the stack's own
    assert endpoints.queues["us-west"] == "redis://127.0.0.1:40006/0"
    assert endpoints.entries == {
        "us-east": "http://127.0.1.1:40050",
        "us-west": "http://127.0.2.1:40050",
    }
    assert (endpoints.entry_port, endpoints.dns) == (40050, "127.0.0.1:40001")
    assert endpoints.shards[1] == (
        "postgresql://harness@127.0.0.1:40011/harness",
        "postgresql://harness@127.0.0.1:40021/harness",
    )


def test_a_stack_without_a_readable_config_label_has_no_wan_latency() -> None:
    client = FakeDocker()
    running_stack(client, None)
    assert lifecycle.discover_endpoints(client, "lab").wan_latency_ms == 0  # type: ignore[arg-type]


# --- host ports chosen at create (published_ports) ---------------------------------------
def _spec(**fields: object) -> ContainerSpec:
    return ContainerSpec(instance="x", service="x", image="img", probe=None, **fields)  # type: ignore[arg-type]


def test_published_ports_are_tcp_on_127_0_0_1() -> None:
    ports = lifecycle.published_ports(_spec(publish=[9090, 8405]))
    assert set(ports) == {"9090/tcp", "8405/tcp"}
    assert all(address == "127.0.0.1" and 0 < port < 65536 for address, port in ports.values())
    assert lifecycle.published_ports(_spec()) == {}


def test_a_udp_port_is_published_for_tcp_and_udp_at_one_host_port_free_for_both() -> None:
    ports = lifecycle.published_ports(_spec(publish=[8081], publish_udp=[53]))
    assert set(ports) == {"8081/tcp", "53/tcp", "53/udp"}
    assert ports["53/tcp"] == ports["53/udp"]
    assert ports["8081/tcp"][0] == "127.0.0.1"
    address, port = ports["53/udp"]
    assert address == "127.0.0.1"
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):  # free for both, a moment later
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind((address, port))


def test_ports_published_on_addresses_of_their_own_share_one_host_port() -> None:
    spec = _spec(publish=[8474], publish_on={20000: "127.0.1.1", 20001: "127.0.2.1"})
    ports = lifecycle.published_ports(spec)
    shared = ports["20000/tcp"][1]
    assert ports["20000/tcp"] == ("127.0.1.1", shared)
    assert ports["20001/tcp"] == ("127.0.2.1", shared)
    assert ports["8474/tcp"][0] == "127.0.0.1"
    with socket.socket() as a, socket.socket() as b:  # free on both addresses
        a.bind(("127.0.1.1", shared))
        b.bind(("127.0.2.1", shared))
