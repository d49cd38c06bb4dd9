"""Removing stacks: one by name, all of them, or those whose harness process died."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network

from harness.errors import InfraError
from harness.stack import labels

Progress = Callable[[str], None]


TEAR_DOWN_TIMEOUT_S = 60.0


def tear_down(client: docker.DockerClient, stack: str | None) -> str:
    """Remove one stack's containers, networks and volumes (every stack's when stack is None).

    Repeats until nothing labelled is left: a harness killed mid-`up` may have a container
    create still in flight in the engine, which appears after the first listing and keeps its
    volume "in use"; the next pass removes it.
    """
    filters = labels.stack_filter(stack)
    counts = {"containers": 0, "networks": 0, "volumes": 0}
    deadline = time.monotonic() + TEAR_DOWN_TIMEOUT_S
    while True:
        left = _remove_pass(client, filters, counts)
        if not left:
            break
        if time.monotonic() > deadline:
            raise InfraError(
                f"could not remove {', '.join(left)} within {TEAR_DOWN_TIMEOUT_S:.0f} s",
                hint="check `docker ps -a`; then run `harness cleanup` again",
            )
        time.sleep(0.5)
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def _remove_pass(
    client: docker.DockerClient, filters: dict[str, list[str]], counts: dict[str, int]
) -> list[str]:
    """One pass over everything labelled; returns what could not be removed yet."""
    left: list[str] = []

    def attempt(kind: str, name: str, remove: Callable[[], object]) -> None:
        try:
            remove()
            counts[kind] += 1
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:  # in use, removal in progress: next pass
            left.append(f"{kind[:-1]} {name} ({exc.explanation or exc})")

    def remove_container(container: Container) -> None:
        attempt("containers", container.name, lambda: container.remove(force=True, v=True))

    with ThreadPoolExecutor(max_workers=8) as pool:  # removal is I/O bound on the engine
        list(
            pool.map(
                remove_container,
                client.containers.list(all=True, filters=filters, ignore_removed=True),
            )
        )
    for network in client.networks.list(filters=filters):
        attempt("networks", network.name, functools.partial(_remove_network, network))
    for volume in client.volumes.list(filters=filters):
        attempt("volumes", volume.name, functools.partial(volume.remove, force=True))
    if client.containers.list(all=True, filters=filters, sparse=True):
        left.append("containers created meanwhile")
    return left


def _remove_network(network: Network) -> None:
    """Remove a network, first force-disconnecting what is still attached: Docker 20.10 can
    keep the endpoint of a container already removed ("has active endpoints") until told
    to drop it (`docker network disconnect -f`), and no retry would ever free it."""
    with contextlib.suppress(docker.errors.NotFound):
        network.reload()
    for endpoint in list(network.attrs.get("Containers") or {}):
        with contextlib.suppress(docker.errors.APIError):
            network.disconnect(endpoint, force=True)
    network.remove()


def reap_orphans(client: docker.DockerClient, progress: Progress) -> list[str]:
    """Remove stacks whose owning `harness run` process is gone (killed, crashed)."""
    reaped: list[str] = []
    stacks: dict[str, str] = {}
    for c in client.containers.list(all=True, filters=labels.stack_filter(), sparse=True):
        found = c.attrs.get("Labels") or {}  # sparse objects carry the list API's fields only
        stacks.setdefault(found.get(labels.STACK, ""), found.get(labels.OWNER, ""))
    for stack, owner in stacks.items():
        if stack and labels.owner_is_dead(owner):
            progress(f"removing stack {stack!r} left by a dead harness ({owner})")
            tear_down(client, stack)
            reaped.append(stack)
    return reaped
