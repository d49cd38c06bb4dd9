"""What a running stack looks like: each service's state, readiness and ports; waiting for it.

`health` is the harness's own probe, taken when asked, so a service that died or hangs shows
as down at once (the stack has no Docker health checks: see harness.stack.spec).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import docker

from harness.errors import InfraError
from harness.stack import labels
from harness.stack import topology as t
from harness.stack.endpoints import parse_published
from harness.stack.health import probe_containers, wait_routed
from harness.stack.lifecycle import discover_endpoints, stack_containers


@dataclass(frozen=True, kw_only=True)
class ServiceStatus:
    name: str
    service: str
    state: str
    health: str  # "healthy", or why the harness's probe says it is not ready
    ports: dict[int, int] = field(default_factory=dict)
    image: str = ""


@dataclass(frozen=True, kw_only=True)
class StackStatus:
    stack: str
    services: list[ServiceStatus]
    endpoints: dict[str, object]

    @property
    def healthy(self) -> bool:
        return bool(self.services) and all(s.health == "healthy" for s in self.services)

    def as_dict(self) -> dict[str, object]:
        return {
            "stack": self.stack,
            "healthy": self.healthy,
            "services": [asdict(s) for s in self.services],
            "endpoints": self.endpoints,
        }


def wait_until_healthy(
    client: docker.DockerClient, stack: str, *, timeout_s: float, poll_s: float = 0.5
) -> StackStatus:
    """Wait for every container of a running stack to be ready (e.g. after a restart) and for
    each region's users to be sent home; InfraError naming what is not."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = stack_status(client, stack)
        if status.healthy:
            left = max(1.0, deadline - time.monotonic())
            endpoints = discover_endpoints(client, stack)
            wait_routed(endpoints, t.REGIONS, timeout_s=left, progress=lambda _: None)
            return status
        if time.monotonic() > deadline:
            sick = [f"{s.name} ({s.health})" for s in status.services if s.health != "healthy"]
            raise InfraError(
                f"stack {stack!r} is not healthy after {timeout_s:.0f} s: "
                + (", ".join(sick) or "no containers"),
                hint=f"`harness status --stack {stack}` shows each service; "
                f"`harness up --stack {stack}` replaces an unhealthy stack",
            )
        time.sleep(poll_s)


def stack_status(client: docker.DockerClient, stack: str) -> StackStatus:
    containers = {c.labels.get(labels.INSTANCE, c.name): c for c in stack_containers(client, stack)}
    probed = probe_containers(containers)
    services = [
        ServiceStatus(
            name=name,
            service=c.labels.get(labels.SERVICE, ""),
            state=str(c.attrs["State"]["Status"]),
            health=probed.get(name) or "healthy",
            ports=parse_published(c.attrs["NetworkSettings"]["Ports"] or {}),
            image=str(c.attrs.get("Image", "")),
        )
        for name, c in containers.items()
    ]
    services.sort(key=lambda s: s.name)
    endpoints: dict[str, object] = {}
    if services:
        try:
            endpoints = discover_endpoints(client, stack).as_dict()
        except InfraError:
            endpoints = {}
    return StackStatus(stack=stack, services=services, endpoints=endpoints)
