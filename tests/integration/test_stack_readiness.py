"""Readiness on the real stack: the harness's own probes, the wait until the DNS server sends
each region's users home, and a status that sees a dead or hung service at once while Docker's
own check runs only every 30 s."""

from __future__ import annotations

import time

import docker
import pytest

from harness.stack import labels
from harness.stack import topology as t
from harness.stack.endpoints import Endpoints
from harness.stack.health import routed_home
from harness.stack.lifecycle import container_name
from harness.stack.status import stack_status, wait_until_healthy
from tests.integration.helpers import dns_sends, served_via_dns, wait_for


def health_of(client: docker.DockerClient, stack: str, instance: str) -> str:
    return {s.name: s.health for s in stack_status(client, stack).services}[instance]


# us-west's only web replica (its entry answers the DNS server's check with a 503 then), or its
# entry itself (the check through the edge link finds nobody): either way the DNS server sends
# us-west's users to us-east, and on the way back the container answers its probe before the
# DNS server's next check has seen the region healthy again (for the web replica, before the
# entry has seen it rise, too).
@pytest.mark.parametrize("instance", ["web-us-west-1", "entry-us-west"])
def test_ready_means_each_region_is_routed_home(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient, instance: str
) -> None:
    container = docker_client.containers.get(container_name(stack_name, instance))
    container.stop(timeout=1)
    try:
        wait_for(
            lambda: served_via_dns(stack, "us-west") == "us-east",
            20,
            "the DNS server sending us-west users to us-east",
        )
        assert routed_home(stack, "us-west") is not None  # so readiness has this to wait for
    finally:
        container.start()
    # The wait covers the container's probe and the DNS server's answers, so the very next
    # user of each region is sent home and served there.
    wait_until_healthy(docker_client, stack_name, timeout_s=60)
    assert [dns_sends(stack, r) for r in t.REGIONS] == list(t.REGIONS)
    assert [served_via_dns(stack, r) for r in t.REGIONS] == list(t.REGIONS)


# The shortest Docker health-check interval issue 12 allowed: `status`, probing when asked,
# must show a hung service down sooner than any such check could have.
SHOWN_DOWN_WITHIN_S = 10


def test_status_shows_a_hung_service_down_at_once(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    web = docker_client.containers.get(container_name(stack_name, "web-us-east-1"))
    web.pause()
    try:
        started = time.monotonic()
        assert health_of(docker_client, stack_name, "web-us-east-1") != "healthy"
        # the probe is what saw it: the containers have no Docker health check
        assert time.monotonic() - started < SHOWN_DOWN_WITHIN_S
    finally:
        web.unpause()
    wait_until_healthy(docker_client, stack_name, timeout_s=60)
    assert health_of(docker_client, stack_name, "web-us-east-1") == "healthy"


def test_status_shows_a_killed_worker_down_at_once(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    worker = docker_client.containers.get(container_name(stack_name, "worker-us-west-2"))
    worker.kill()
    try:
        status = {s.name: s for s in stack_status(docker_client, stack_name).services}
        assert status["worker-us-west-2"].health != "healthy"
        assert status["worker-us-west-2"].state == "exited"
        assert not stack_status(docker_client, stack_name).healthy
    finally:
        worker.start()
    wait_until_healthy(docker_client, stack_name, timeout_s=60)


def test_no_container_of_the_stack_runs_a_docker_health_check(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    """Asked of the engine itself: no container was given a check, and none inherited one
    from its image (each would be a `docker exec` every interval, on the engine's CPU)."""
    containers = docker_client.containers.list(filters={"label": f"{labels.STACK}={stack_name}"})
    assert len(containers) >= 20
    checked = {c.name: c.attrs["Config"].get("Healthcheck") for c in containers}
    assert {n: hc for n, hc in checked.items() if hc and hc.get("Test") != ["NONE"]} == {}
    assert not [c.name for c in containers if "Health" in c.attrs["State"]]
