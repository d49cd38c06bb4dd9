"""The composition root of a run: the one module that builds adapters.

`BundledStack` is the StackProvider of the bundled two-region stack: it connects to Docker,
brings the stack up (or reuses one), and builds the Target from the real adapters:

    links        ToxiproxyClient (harness/faults/toxiproxy_client.py)
    containers   DockerContainers (harness/faults/containers.py)
    prometheus   PrometheusClient (harness/slo/prometheus.py)
    shards       ShardReader (harness/invariants/shards.py), queues RegionQueues (queue.py)
    load         start_load (harness/load/runner.py), a Locust subprocess
    fault_gauge  FaultExporter (harness/run/exporter.py)
    scrape       ScrapeRegistration (harness/run/registration.py)

Everything else of the run (`ScenarioRun`) sees only the ports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docker

from harness.errors import InfraError
from harness.faults.containers import DockerContainers
from harness.faults.toxiproxy_client import stack_links
from harness.invariants.queue import RegionQueues
from harness.invariants.shards import ShardReader
from harness.load.runner import start_load
from harness.net import free_port
from harness.run.container_logs import save_container_logs
from harness.run.exporter import FaultExporter, bindable_host
from harness.run.options import RunOptions
from harness.run.registration import ScrapeRegistration
from harness.run.stackuse import StackUse, acquire_stack
from harness.scenario.model import Scenario
from harness.slo.prometheus import PrometheusClient
from harness.stack.entry_log import reached_ids
from harness.stack.lifecycle import discover_endpoints
from harness.stack.smoke import region_url
from harness.stack.status import wait_until_healthy
from harness.stack.warmup import warm_up
from harness.target import Target

Say = Callable[[str], None]


class BundledStack:
    """The bundled stack as a StackProvider (see `harness.ports.StackProvider`)."""

    def __init__(self, *, scenario: Scenario, options: RunOptions, run_id: str, say: Say) -> None:
        self.scenario = scenario
        self.options = options
        self.run_id = run_id
        self.say = say
        self._client: docker.DockerClient | None = None
        self._use: StackUse | None = None

    def connect(self) -> None:
        from harness.stack.docker_client import connect

        self._client = connect()

    def acquire(self) -> Target:
        client = self._docker()
        self._use = acquire_stack(client, self.scenario, self.options, say=self.say)
        return bundled_target(client, self._use, run_id=self.run_id)

    def release(self) -> None:
        if self._use is not None:
            self._use.release(self._docker(), say=self.say)

    def wait_healthy(self) -> None:
        wait_until_healthy(self._docker(), self._stack(), timeout_s=self.options.up_timeout_s)

    def save_logs(self, dest: Path, since: float) -> dict[str, list[str]]:
        return save_container_logs(self._docker(), self._stack(), dest, since)

    def _docker(self) -> docker.DockerClient:
        if self._client is None:
            raise InfraError("not connected to Docker (connect() first)")
        return self._client

    def _stack(self) -> str:
        return self._use.name if self._use is not None else self.options.stack_name


def bundled_target(client: docker.DockerClient, use: StackUse, *, run_id: str) -> Target:
    """The Target of a running bundled stack: its endpoints and the real adapters."""
    endpoints = use.endpoints
    host = bindable_host(endpoints.gateway)  # where host-side exporters can be scraped
    return Target(
        name=use.name,
        endpoints=endpoints,
        links=stack_links(endpoints),
        containers=DockerContainers(client, use.name),
        prometheus=PrometheusClient(endpoints.prometheus),
        # Found again when opened: a container restarted after `mode: stop` (a region's queue
        # and shard nodes) is published on a new host port.
        open_shards=lambda: ShardReader(discover_endpoints(client, use.name).shards),
        open_queue=lambda: RegionQueues(discover_endpoints(client, use.name).queues),
        load=start_load,
        fault_gauge=FaultExporter(host, dns=endpoints.dns),
        scrape=lambda: ScrapeRegistration(client, use.name, run_id),
        loadgen_metrics=f"{host}:{free_port(host)}",
        describe=use.describe(),
        reached_requests=lambda since: reached_ids(client, use.name, since=since),
        warm_up=lambda: warm_up(lambda region: region_url(endpoints, region)).summary(),
    )
