"""Start, inspect and remove the stack through the Docker SDK.

`bring_up` either returns a healthy stack or leaves nothing behind: any failure, and Ctrl-C,
removes what it had started before the error propagates (testcontainers' rule: a failed
start cleans up after itself).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import PurePosixPath

import docker
import docker.errors
from docker.models.containers import Container

from harness.errors import InfraError
from harness.net import free_port, free_port_on
from harness.stack import labels
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.endpoints import Endpoints, endpoints_from_ports, parse_published
from harness.stack.health import probe_containers, wait_healthy, wait_routed
from harness.stack.images import ensure_images
from harness.stack.replication import restore_placement, wait_replicated
from harness.stack.spec import ContainerSpec, stack_spec
from harness.stack.teardown import reap_orphans, tear_down

Progress = Callable[[str], None]
CONFIG_HASH = f"{labels.PREFIX}.config-hash"
CONFIG = f"{labels.PREFIX}.config"  # the config itself (StackConfig.as_json), for --reuse-stack
ENGINE_THREADS = 4  # Docker calls in flight at once while creating and starting containers


def network_name(stack: str, site: str = t.WITNESS_SITE) -> str:
    """A site's network: the witness site's is the stack's own (`chaos-default`), where the
    observer and the host-side exporters meet; each region's is `chaos-default-us-east`."""
    return f"chaos-{stack}" if site == t.WITNESS_SITE else f"chaos-{stack}-{site}"


def container_name(stack: str, instance: str) -> str:
    return f"chaos-{stack}-{instance}"


def config_hash(config: StackConfig) -> str:
    """Hash of everything the containers are made from (config and the specs it yields), so a
    changed harness or config replaces a running stack instead of reusing it."""
    specs = [asdict(spec) for spec in stack_spec(config)]
    text = json.dumps([asdict(config), specs], sort_keys=True, default=sorted)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def bring_up(
    client: docker.DockerClient,
    config: StackConfig,
    *,
    timeout_s: float,
    progress: Progress,
    owner: str = labels.OWNER_UP,
) -> Endpoints:
    """Start the stack (or reuse an identical healthy one) and return its endpoints."""
    reap_orphans(client, progress)
    specs = stack_spec(config)
    image_ids = ensure_images(client, progress=progress)
    if _running_and_current(client, config, specs, image_ids):
        progress(f"stack {config.name!r} is already up")
        endpoints = discover_endpoints(client, config.name)
        wait_routed(endpoints, t.REGIONS, timeout_s=timeout_s, progress=progress)
        restore_placement(endpoints, config, timeout_s=timeout_s, progress=progress)
        return endpoints
    if stack_containers(client, config.name):
        progress(f"replacing stack {config.name!r} (changed or unhealthy)")
        tear_down(client, config.name)
    # The entries and the DNS server start once what they route to answers: HAProxy takes a
    # server as up until a check fails, and the DNS server's first checks then find every
    # entry up, so each region's users are sent home at once instead of after a failed check.
    first = [spec for spec in specs if not spec.start_last]
    last = [spec for spec in specs if spec.start_last]
    deadline = time.monotonic() + timeout_s
    try:
        created = _create_and_start(client, config, first, last, owner=owner, progress=progress)
        wait_healthy(client, config.name, first, timeout_s=_left(deadline), progress=progress)
        _start(created[len(first) :], progress)
        wait_healthy(client, config.name, last, timeout_s=_left(deadline), progress=progress)
        endpoints = discover_endpoints(client, config.name)
        wait_routed(endpoints, t.REGIONS, timeout_s=_left(deadline), progress=progress)
        wait_replicated(
            endpoints,
            timeout_s=_left(deadline),
            progress=progress,
            synchronous=config.synchronous,
        )
        return endpoints
    except BaseException:
        progress(f"removing the partly started stack {config.name!r}")
        tear_down(client, config.name)
        raise


def _running_and_current(
    client: docker.DockerClient,
    config: StackConfig,
    specs: list[ContainerSpec],
    image_ids: dict[str, str],
) -> bool:
    containers = stack_containers(client, config.name)
    if len(containers) != len(specs):
        return False
    wanted = config_hash(config)
    image_of = {spec.instance: image_ids.get(spec.image) for spec in specs}
    same = all(
        c.labels.get(CONFIG_HASH) == wanted
        and c.attrs.get("Image") == image_of.get(c.labels.get(labels.INSTANCE, ""))
        for c in containers
    )
    if not same:
        return False
    by_name = {c.labels.get(labels.INSTANCE, c.name): c for c in containers}
    return all(why is None for why in probe_containers(by_name).values())


def published_ports(spec: ContainerSpec) -> dict[str, tuple[str, int]]:
    """The Docker SDK `ports=` of a spec, host ports chosen now (see _create)."""
    ports = {f"{p}/tcp": ("127.0.0.1", free_port("127.0.0.1")) for p in spec.publish}
    for port in spec.publish_udp:
        shared = free_port_on(["127.0.0.1"], udp=True)
        ports[f"{port}/tcp"] = ports[f"{port}/udp"] = ("127.0.0.1", shared)
    if spec.publish_on:
        shared = free_port_on(list(spec.publish_on.values()))
        for port, address in spec.publish_on.items():
            ports[f"{port}/tcp"] = (address, shared)
    return ports


def _left(deadline: float) -> float:
    """What is left of `up`'s time (`--timeout` bounds the whole of it, starting included)."""
    return max(0.0, deadline - time.monotonic())


def _start(containers: list[Container], progress: Progress) -> None:
    if containers:
        progress(f"starting {', '.join(c.name for c in containers)}")
    for container in containers:
        container.start()


def _create_and_start(
    client: docker.DockerClient,
    config: StackConfig,
    specs: list[ContainerSpec],
    later: list[ContainerSpec],
    *,
    owner: str,
    progress: Progress,
) -> list[Container]:
    """Create every container (`specs` then `later`), starting each of `specs` as soon as it
    is created; return them all in that order (`later` ones created, not started)."""
    base_labels = {
        **labels.stack_labels(config.name, owner),
        CONFIG_HASH: config_hash(config),
        CONFIG: config.as_json(),
    }
    nets = [network_name(config.name, site) for site in t.SITES]
    progress(f"creating networks {', '.join(nets)}")
    for net in nets:
        client.networks.create(net, driver="bridge", labels=base_labels, check_duplicate=True)
    progress(f"creating and starting {len(specs)} containers")

    def create_and_start(spec: ContainerSpec) -> Container:
        container = _create(client, config.name, spec, base_labels)
        container.start()
        return container

    # Creating and starting are I/O bound on the engine: a few threads, each starting what it
    # has just created, overlap both (data tier first: the shards take longest to be ready).
    with ThreadPoolExecutor(max_workers=ENGINE_THREADS) as pool:
        started = list(pool.map(create_and_start, specs))
    return started + [_create(client, config.name, spec, base_labels) for spec in later]


def _create(
    client: docker.DockerClient,
    stack: str,
    spec: ContainerSpec,
    base_labels: dict[str, str],
) -> Container:
    own = {
        **base_labels,
        labels.SERVICE: spec.service,
        labels.INSTANCE: spec.instance,
        labels.PROBE: spec.probe.label(),
    }
    volumes = {}
    if spec.volume_path:
        volume = client.volumes.create(f"{container_name(stack, spec.instance)}-data", labels=own)
        volumes[volume.name] = {"bind": spec.volume_path, "mode": "rw"}
    aliases = [spec.instance, *spec.aliases]
    net = network_name(stack, spec.sites[0])
    endpoint = client.api.create_endpoint_config(aliases=aliases)
    container = client.containers.create(
        spec.image,
        command=spec.command or None,
        name=container_name(stack, spec.instance),
        hostname=spec.instance,
        environment=spec.env,
        labels=own,
        network=net,
        networking_config={net: endpoint},
        # Host ports chosen now, not by Docker at each start: a container stopped and started
        # again (a region's `mode: stop`) keeps its endpoints, so what was discovered stays true.
        ports=published_ports(spec),
        volumes=volumes,
        extra_hosts={"host.docker.internal": "host-gateway"} if spec.host_gateway else None,
        detach=True,
    )
    # The other sites' networks, before the start (Docker's create takes only one).
    for site in spec.sites[1:]:
        client.networks.get(network_name(stack, site)).connect(container, aliases=aliases)
    for path, content in spec.files.items():
        put_file(container, path, content)
    return container


def put_file(container: Container, path: str, content: str) -> None:
    """Write one file into a (created or running) container, through a tar archive."""
    target = PurePosixPath(path)
    data = content.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(target.name)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    if not container.put_archive(str(target.parent), buf.getvalue()):
        raise InfraError(f"could not write {path} into container {container.name}")


def stack_containers(client: docker.DockerClient, stack: str) -> list[Container]:
    return list(
        client.containers.list(all=True, filters=labels.stack_filter(stack), ignore_removed=True)
    )


def discover_endpoints(client: docker.DockerClient, stack: str) -> Endpoints:
    containers = stack_containers(client, stack)
    ports = {
        c.labels.get(labels.INSTANCE, c.name): parse_published(c.attrs["NetworkSettings"]["Ports"])
        for c in containers
    }
    wan_latency_ms = 0
    for container in containers[:1]:
        try:
            config = StackConfig.from_json(container.labels.get(CONFIG, ""), name=stack)
            wan_latency_ms = config.wan_latency_ms
        except ValueError:
            pass  # a stack from before the config label: no WAN latency
    try:
        network = client.networks.get(network_name(stack))
        gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
    except (docker.errors.NotFound, KeyError, IndexError) as exc:
        raise InfraError(f"stack {stack!r} has no network {network_name(stack)}") from exc
    try:
        return endpoints_from_ports(ports, gateway=gateway, wan_latency_ms=wan_latency_ms)
    except KeyError as exc:
        raise InfraError(
            f"stack {stack!r} is incomplete: {exc.args[0]}", hint="run `harness up` again"
        ) from exc
