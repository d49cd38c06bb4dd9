"""The composition root builds the bundled stack's Target from the real adapters (built, not
called: none of them talks to anything until used)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import InfraError
from harness.faults.containers import DockerContainers
from harness.faults.toxiproxy_client import ToxiproxyClient
from harness.invariants.queue import RegionQueues
from harness.invariants.shards import ShardReader, primary_url
from harness.load.runner import start_load
from harness.run import compose
from harness.run.compose import BundledStack, bundled_target
from harness.run.exporter import FaultExporter
from harness.run.options import RunOptions
from harness.run.stackuse import StackUse
from harness.scenario.model import Scenario
from harness.slo.prometheus import PrometheusClient
from harness.stack.wan import wan_toxics
from tests.fakes import ENDPOINTS, FakeDocker

LOAD = {"users": 1, "spawn_rate": 1, "duration": "10s", "geography": {"us-east": 100}}


def test_the_bundled_target_holds_the_real_adapters_of_the_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoints = replace(ENDPOINTS, wan_latency_ms=35)
    # The shard and queue readers find the endpoints again when opened (ports change when a
    # stopped container starts again): here they are the stack's as discovered now.
    monkeypatch.setattr(compose, "discover_endpoints", lambda client, name: endpoints)
    use = StackUse(name="lab", endpoints=endpoints, owned=True, images={"queue": "sha256:q"})
    target = bundled_target(FakeDocker(), use, run_id="r1")
    assert target.name == "lab" and target.endpoints == endpoints
    assert isinstance(target.links, ToxiproxyClient) and target.links.url == ENDPOINTS.toxiproxy
    # the WAN latency the stack was started with is the links' baseline
    assert target.links.baseline and target.links.baseline == tuple(wan_toxics(35))
    assert isinstance(target.containers, DockerContainers) and target.containers.stack == "lab"
    assert isinstance(target.prometheus, PrometheusClient)
    shards = target.open_shards()
    assert isinstance(shards, ShardReader)
    # each shard is read on its primary, wherever it is: one multi-host URL per shard
    assert shards.urls == tuple(primary_url(nodes) for nodes in ENDPOINTS.shards)
    queues = target.open_queue()
    assert isinstance(queues, RegionQueues) and len(queues.readers) == len(ENDPOINTS.queues)
    queues.close()
    assert target.load is start_load and isinstance(target.fault_gauge, FaultExporter)
    host, _, port = target.loadgen_metrics.rpartition(":")
    assert host == target.fault_gauge.host and port.isdigit()
    assert target.describe == use.describe()


def test_the_bundled_stack_needs_docker_before_anything_else() -> None:
    scenario = Scenario.model_validate({"name": "s", "load": LOAD})
    stack = BundledStack(
        scenario=scenario, options=RunOptions(scenario_path=Path("s.yaml")), run_id="r", say=print
    )
    with pytest.raises(InfraError, match="not connected to Docker"):
        stack.acquire()
    stack.release()  # nothing acquired: nothing to release
