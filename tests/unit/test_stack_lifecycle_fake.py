"""Lifecycle logic against a fake Docker client: cleanup on failure, reaping, tear-down."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from harness.errors import InfraError
from harness.stack import labels, lifecycle, teardown
from harness.stack.config import StackConfig
from harness.stack.spec import stack_spec
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
    assert created["chaos-lab-geo-router"] == "chaos-lab"
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
    aliases = nets["chaos-lab-us-west"]["chaos-lab-toxiproxy"]["Aliases"]
    assert aliases[0] == "toxiproxy" and "edge-us-west" in aliases


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
        "geo-router": {8080: 40001, 8405: 40002},
        "prometheus": {9090: 40003},
        "toxiproxy": {8474: 40004},
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
        container.attrs["NetworkSettings"] = {
            "Ports": {
                f"{port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(host)}]
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
    assert endpoints.shards[1] == (
        "postgresql://harness@127.0.0.1:40011/harness",
        "postgresql://harness@127.0.0.1:40021/harness",
    )


def test_a_stack_without_a_readable_config_label_has_no_wan_latency() -> None:
    client = FakeDocker()
    running_stack(client, None)
    assert lifecycle.discover_endpoints(client, "lab").wan_latency_ms == 0  # type: ignore[arg-type]
