"""The composition root builds the bundled stack's Target from the real adapters (built, not
called: none of them talks to anything until used)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InfraError
from harness.faults.containers import DockerContainers
from harness.faults.toxiproxy_client import ToxiproxyClient
from harness.invariants.queue import QueueReader
from harness.invariants.shards import ShardReader
from harness.load.runner import start_load
from harness.run.compose import BundledStack, bundled_target
from harness.run.exporter import FaultExporter
from harness.run.options import RunOptions
from harness.run.stackuse import StackUse
from harness.scenario.model import Scenario
from harness.slo.prometheus import PrometheusClient
from tests.fakes import ENDPOINTS, FakeDocker

LOAD = {"users": 1, "spawn_rate": 1, "duration": "10s", "geography": {"us-east": 100}}


def test_the_bundled_target_holds_the_real_adapters_of_the_stack() -> None:
    use = StackUse(name="lab", endpoints=ENDPOINTS, owned=True, images={"queue": "sha256:q"})
    target = bundled_target(FakeDocker(), use, run_id="r1")
    assert target.name == "lab" and target.endpoints == ENDPOINTS
    assert isinstance(target.links, ToxiproxyClient) and target.links.url == ENDPOINTS.toxiproxy
    assert isinstance(target.containers, DockerContainers) and target.containers.stack == "lab"
    assert isinstance(target.prometheus, PrometheusClient)
    assert isinstance(target.open_shards(), ShardReader)
    assert isinstance(target.open_queue(), QueueReader)
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
