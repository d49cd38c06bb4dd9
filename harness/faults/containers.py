"""The adapter faults use to kill, stop, pause and restart the stack's containers.

Targets are named as in scenarios: a service (`worker-us-east`: all its replicas) or one
instance (`worker-us-east-2`). Every Docker failure becomes an InfraError naming the container.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import docker
import docker.errors
import requests
from docker.models.containers import Container

from harness.errors import InfraError
from harness.stack import labels
from harness.stack.endpoints import parse_published
from harness.stack.topology import WORKER_METRICS_PORT

STOP_TIMEOUT_S = 5


class DockerContainers:
    """The stack's containers through the Docker SDK; implements `harness.ports.ContainerControl`
    (with docker-py's Container as the handle)."""

    def __init__(self, client: docker.DockerClient, stack: str) -> None:
        self.client = client
        self.stack = stack

    def instances(self, target: str) -> list[Container]:
        """Containers of a service or the one instance named, sorted by instance name.

        A sparse list (one call) picks them; only those are inspected. A full list inspects
        every container of the stack (22: about 0.15 s), and the fault's first effect waits
        for it."""
        listed = self.client.containers.list(
            all=True, filters=labels.stack_filter(self.stack), sparse=True
        )
        found = []
        for c in listed:
            own = c.attrs.get("Labels") or {}
            if target in (own.get(labels.SERVICE), own.get(labels.INSTANCE)):
                with contextlib.suppress(docker.errors.NotFound):  # removed meanwhile
                    found.append(self.client.containers.get(c.id))
        if not found:
            raise InfraError(f"stack {self.stack!r} has no service or container named {target!r}")
        return sorted(found, key=lambda c: c.labels.get(labels.INSTANCE, c.name))

    def _do(self, container: Container, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except docker.errors.DockerException as exc:
            raise InfraError(f"could not {what} container {container.name}: {exc}") from exc

    def kill(self, container: Container) -> None:
        """SIGKILL: real process death, no graceful shutdown."""
        self._do(container, "kill", lambda: container.kill(signal="SIGKILL"))

    def stop(self, container: Container) -> None:
        self._do(container, "stop", lambda: container.stop(timeout=STOP_TIMEOUT_S))

    def start(self, container: Container) -> None:
        container.reload()
        if container.status == "paused":
            self._do(container, "unpause", container.unpause)
        elif container.status != "running":
            self._do(container, "start", container.start)

    def pause(self, container: Container) -> None:
        self._do(container, "pause", container.pause)

    def unpause(self, container: Container) -> None:
        container.reload()
        if container.status == "paused":
            self._do(container, "unpause", container.unpause)

    def wait_worker_busy(self, container: Container, timeout_s: float) -> bool:
        """Wait until a worker takes its next job; True when it holds one.

        Asks the worker's /busy with `next_ms` (on its published loopback port): the answer
        comes the moment the job is taken, so a kill sent now lands inside the job."""
        container.reload()
        ports = parse_published(container.attrs["NetworkSettings"]["Ports"] or {})
        port = ports.get(WORKER_METRICS_PORT)
        if port is None:
            return False
        url = f"http://127.0.0.1:{port}/busy?next_ms={int(timeout_s * 1000)}"
        try:
            return bool(requests.get(url, timeout=timeout_s + 2).json().get("busy"))
        except (requests.RequestException, ValueError):
            return False

    def heal_all(self) -> list[str]:
        """Unpause and start every container of the stack that is not running.

        The safety net at the start and end of a run: whatever a crashed or interrupted fault
        left stopped or paused is brought back.
        """
        healed = []
        # Sparse (states only, one call); start() inspects what it brings back.
        for container in self.client.containers.list(
            all=True, filters=labels.stack_filter(self.stack), sparse=True
        ):
            if container.status != "running":
                self.start(container)
                healed.append(container.labels.get(labels.INSTANCE, container.name))
        return healed
