"""Waiting until every container of a stack is healthy, and saying which one is not."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import docker
import docker.errors
import requests
from docker.models.containers import Container

from harness.errors import InfraError
from harness.stack import labels
from harness.stack.endpoints import parse_published
from harness.stack.spec import ContainerSpec

LOG_TAIL_LINES = 20
POLL_S = 0.5


def container_health(container: Container) -> str:
    """'healthy', 'starting', 'unhealthy', 'exited', ... or 'running' (no health check)."""
    state = container.attrs.get("State", {})
    if state.get("Status") != "running":
        return str(state.get("Status", "unknown"))
    health = state.get("Health")
    return str(health["Status"]) if health else "running"


def probe_ok(container: Container, spec: ContainerSpec) -> bool:
    """HTTP probe for images without a shell: GET on the published loopback port."""
    assert spec.http_probe is not None
    ports = parse_published(container.attrs.get("NetworkSettings", {}).get("Ports") or {})
    port = ports.get(spec.http_probe.port)
    if port is None:
        return False
    try:
        resp = requests.get(f"http://127.0.0.1:{port}{spec.http_probe.path}", timeout=1)
    except requests.RequestException:
        return False
    return resp.status_code == 200


def is_ready(container: Container, spec: ContainerSpec) -> bool:
    status = container_health(container)
    if spec.http_probe is not None:
        return status == "running" and probe_ok(container, spec)
    return status == "healthy" if spec.health_cmd else status == "running"


def log_tail(container: Container, lines: int = LOG_TAIL_LINES) -> str:
    try:
        raw: bytes = container.logs(tail=lines)
    except docker.errors.DockerException as exc:
        return f"    (no logs: {exc})"
    text = raw.decode("utf-8", "replace").rstrip()
    return "\n".join(f"    {line}" for line in text.splitlines()) or "    (empty log)"


def wait_healthy(
    client: docker.DockerClient,
    stack: str,
    specs: Iterable[ContainerSpec],
    *,
    timeout_s: float,
    progress: Callable[[str], None],
) -> None:
    """Return when every container is ready; InfraError naming the laggards otherwise.

    A container that exits while we wait fails at once (its log says why), rather than after
    the whole timeout.
    """
    by_instance = {spec.instance: spec for spec in specs}
    deadline = time.monotonic() + timeout_s
    last_waiting: list[str] = []
    while True:
        containers = {
            c.labels.get(labels.INSTANCE, c.name): c
            for c in client.containers.list(
                all=True, filters=labels.stack_filter(stack), ignore_removed=True
            )
        }
        waiting: list[str] = []
        for instance, spec in by_instance.items():
            container = containers.get(instance)
            if container is None:
                raise InfraError(f"container for {instance} of stack {stack!r} disappeared")
            if container_health(container) in ("exited", "dead"):
                raise InfraError(
                    f"service {instance} exited while starting",
                    hint="its last log lines are below",
                    detail=log_tail(container),
                )
            if not is_ready(container, spec):
                waiting.append(instance)
        if not waiting:
            return
        if waiting != last_waiting:
            progress(f"waiting for {len(waiting)} service(s): {', '.join(waiting)}")
            last_waiting = waiting
        if time.monotonic() > deadline:
            detail = "\n".join(
                f"  {name} ({container_health(containers[name])}):\n{log_tail(containers[name])}"
                for name in waiting
            )
            raise InfraError(
                f"service(s) not healthy after {timeout_s:.0f} s: {', '.join(waiting)}",
                hint="their last log lines are below; `harness up --timeout N` waits longer",
                detail=detail,
            )
        time.sleep(POLL_S)
