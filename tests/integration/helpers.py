"""Helpers of the integration tests: the CLI as a user runs it, what a stack left behind, and
the stack's users' view: where the DNS server sends a region's users, and who serves them."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import docker
import requests

from harness.errors import InfraError
from harness.stack import labels
from harness.stack.config import StackConfig
from harness.stack.dns_query import Answer, ResolveError, query_a, region_of_address
from harness.stack.endpoints import Endpoints
from harness.stack.lifecycle import CONFIG, stack_containers
from harness.stack.smoke import region_url
from harness.vocabulary import HOME_HEADER, SERVED_HEADER, SERVICE_NAME


def harness_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def labelled(client: docker.DockerClient, stack: str) -> tuple[int, int, int]:
    f = labels.stack_filter(stack)
    return (
        len(client.containers.list(all=True, filters=f, sparse=True)),
        len(client.networks.list(filters=f)),
        len(client.volumes.list(filters=f)),
    )


def wait_for(check: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.2) -> float:
    """Poll `check` until true; fail naming `what` after `timeout_s`. Returns the seconds it
    took (a failover's time, when `check` is its end)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout_s, f"{what}: not within {timeout_s} s"
        time.sleep(poll_s)
    return time.monotonic() - start


def running_config(client: docker.DockerClient, stack: str) -> StackConfig:
    """What the running stack was started with, as its containers' config label says."""
    label = next(c.labels[CONFIG] for c in stack_containers(client, stack) if CONFIG in c.labels)
    return StackConfig.from_json(label, name=stack)


def dns_answer(endpoints: Endpoints, region: str) -> Answer:
    """The stack's DNS server's answer for the service's name to a user of `region` (the
    region's client subnet, ECS), asked directly: no cache in between. ResolveError without."""
    host, _, port = endpoints.dns.rpartition(":")
    return query_a(SERVICE_NAME, server=host, port=int(port), region=region, timeout_s=2.0)


def dns_sends(endpoints: Endpoints, region: str) -> str:
    """The region whose entry the DNS server sends `region`'s users to now: "" when it gives
    no answer, `other` for an address that is no region's entry."""
    try:
        return region_of_address(dns_answer(endpoints, region).address)
    except ResolveError:
        return ""


def served_by(url: str, region: str, path: str = "/healthz") -> str:
    """The region whose web tier answered a `region` user's GET of `path` at `url` with a 200
    (X-Served-Region); "" when the request failed or answered anything else. The home region
    header is only a label: where the request goes is `url`."""
    try:
        resp = requests.get(f"{url}{path}", headers={HOME_HEADER: region}, timeout=5)
    except requests.RequestException:
        return ""
    return resp.headers.get(SERVED_HEADER, "") if resp.status_code == 200 else ""


def served_via_dns(endpoints: Endpoints, region: str, path: str = "/healthz") -> str:
    """`served_by` where the DNS server sends `region`'s users now (`region_url`), as one of
    them would go; "" when the DNS server gives no answer."""
    try:
        url = region_url(endpoints, region)
    except InfraError:
        return ""
    return served_by(url, region, path)
