"""Waiting until every container of a stack is ready, and saying which one is not.

Ready is the harness's own probe answering (see `harness.stack.probes`), not Docker's health
check, which runs too rarely to wait on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

import docker
import docker.errors
import requests
from docker.models.containers import Container

from harness.errors import InfraError
from harness.stack import labels, readiness
from harness.stack.dns_query import ResolveError, region_of_address, service_query
from harness.stack.endpoints import Endpoints, parse_published
from harness.stack.probes import Probe
from harness.stack.spec import ContainerSpec
from harness.vocabulary import ENTRY_ADDRESSES, HOME_HEADER, SERVED_HEADER, SERVICE_NAME

LOG_TAIL_LINES = 20
POLL_S = 0.5


def container_probe(container: Container) -> tuple[Probe, int | None] | None:
    """The container's readiness probe and the loopback port it answers on (from its labels)."""
    probe = Probe.from_label(container.labels.get(labels.PROBE, ""))
    if probe is None:
        return None
    ports = parse_published(container.attrs.get("NetworkSettings", {}).get("Ports") or {})
    return probe, ports.get(probe.port)


def probe_containers(containers: Mapping[str, Container]) -> dict[str, str | None]:
    """instance -> None when it is running and its probe answered, else why it is not ready."""
    verdicts: dict[str, str | None] = {}
    probes: dict[str, tuple[Probe, int | None]] = {}
    for name, container in containers.items():
        state = container.attrs.get("State", {}).get("Status")
        if state != "running":
            verdicts[name] = f"container {state}"
            continue
        probe = container_probe(container)
        if probe is None:
            verdicts[name] = "no readiness probe label (made by an older harness: `harness down`)"
            continue
        probes[name] = probe
    return {**verdicts, **readiness.check_all(probes)}


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
    ready: set[str] = set()  # probed ready once; an exit afterwards still fails the wait
    reasons: dict[str, str | None] = {}
    # Each round lists the stack sparsely (one call: names and states), and inspects a
    # container once, when it first runs: its published ports are fixed at create. A full
    # list inspects every container each round: 22 of them cost the harness 65 ms and
    # dockerd as much again, twice a second, during a start that is CPU-bound.
    inspected: dict[str, Container] = {}
    while True:
        listed = {
            c.attrs.get("Labels", {}).get(labels.INSTANCE, c.id): c
            for c in client.containers.list(
                all=True, filters=labels.stack_filter(stack), sparse=True
            )
        }
        for instance in by_instance:
            container = listed.get(instance)
            if container is None:
                raise InfraError(f"container for {instance} of stack {stack!r} disappeared")
            if container.status in ("exited", "dead"):
                raise InfraError(
                    f"service {instance} exited while starting",
                    hint="its last log lines are below",
                    detail=log_tail(container),
                )
        for instance in by_instance:
            if instance not in inspected and listed[instance].status == "running":
                inspected[instance] = _inspect(client, listed[instance])
        containers = {i: inspected.get(i, listed[i]) for i in by_instance}
        pending = [i for i in by_instance if i not in ready]
        reasons = {i: f"container {listed[i].status}" for i in pending if i not in inspected}
        reasons |= probe_containers({i: inspected[i] for i in pending if i in inspected})
        ready |= {i for i, why in reasons.items() if why is None}
        waiting = [i for i in by_instance if i not in ready]
        if not waiting:
            return
        if waiting != last_waiting:
            progress(f"waiting for {len(waiting)} service(s): {', '.join(waiting)}")
            last_waiting = waiting
        if time.monotonic() > deadline:
            detail = "\n".join(
                f"  {name} ({reasons.get(name) or containers[name].status}):\n"
                f"{log_tail(containers[name])}"
                for name in waiting
            )
            raise InfraError(
                f"service(s) not healthy after {timeout_s:.0f} s: {', '.join(waiting)}",
                hint="their last log lines are below; `harness up --timeout N` waits longer",
                detail=detail,
            )
        time.sleep(POLL_S)


def _inspect(client: docker.DockerClient, listed: Container) -> Container:
    try:
        return client.containers.get(listed.id)
    except docker.errors.NotFound:
        raise InfraError(f"container {listed.id[:12]} disappeared while starting") from None


def routed_home(endpoints: Endpoints, region: str) -> str | None:
    """None when a `region` user is sent to `region` (the DNS server answers that region's
    users with its entry, and the entry is served by the region's web tier), else what
    happened instead."""
    try:
        answer = service_query(endpoints.dns, timeout_s=readiness.TIMEOUT_S)(region)
    except ResolveError as exc:
        return str(exc)
    if answer.address != ENTRY_ADDRESSES[region]:
        elsewhere = region_of_address(answer.address)
        return f"the DNS sends {region} users to {answer.address} ({elsewhere})"
    try:
        resp = requests.get(
            f"http://{answer.address}:{endpoints.entry_port}/healthz",
            headers={HOME_HEADER: region, "Host": SERVICE_NAME},
            timeout=readiness.TIMEOUT_S,
        )
    except requests.RequestException as exc:
        return f"{region}'s entry did not answer: {type(exc).__name__}"
    served = resp.headers.get(SERVED_HEADER, "nobody")
    if resp.status_code != 200 or served != region:
        return f"a {region} user got {resp.status_code} from {served}"
    return None


def wait_routed(
    endpoints: Endpoints,
    regions: Iterable[str],
    *,
    timeout_s: float,
    progress: Callable[[str], None],
) -> None:
    """Return once every region's users are sent to their home region.

    Every container can answer its probe before the DNS server's first health checks have
    run, and until then it may answer a region's users with the other region's entry (the
    record has no healthy group yet): a run started then would begin with a failover nobody
    caused.
    """
    wanted = list(regions)
    deadline = time.monotonic() + timeout_s
    said = False
    while True:
        wrong = [why for why in (routed_home(endpoints, r) for r in wanted) if why is not None]
        if not wrong:
            return
        if not said:
            progress(f"waiting for each region's users to be sent home ({wrong[0]})")
            said = True
        if time.monotonic() > deadline:
            raise InfraError(
                f"users are not sent to their home region after {timeout_s:.0f} s: "
                + "; ".join(wrong),
                hint="`harness status` shows each service; `docker logs` of the stack's dns "
                "container shows its checks",
            )
        time.sleep(POLL_S / 2)
