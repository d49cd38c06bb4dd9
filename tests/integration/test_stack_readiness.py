"""Readiness on the real stack: the harness's own probes, the routing wait, and a status that
sees a dead or hung service at once while Docker's own check runs only every 30 s."""

from __future__ import annotations

import time

import docker
import requests

from harness.stack import topology as t
from harness.stack.endpoints import Endpoints
from harness.stack.lifecycle import container_name
from harness.stack.spec import DOCKER_CHECK_INTERVAL_S
from harness.stack.status import stack_status, wait_until_healthy
from harness.vocabulary import HOME_HEADER, SERVED_HEADER


def served_region(router: str, region: str) -> str:
    """Which region served a `region` user ("" when the request failed: a stopped web tier
    takes the router a few seconds to route around)."""
    try:
        resp = requests.get(f"{router}/healthz", headers={HOME_HEADER: region}, timeout=15)
    except requests.RequestException:
        return ""
    return resp.headers.get(SERVED_HEADER, "")


def health_of(client: docker.DockerClient, stack: str, instance: str) -> str:
    return {s.name: s.health for s in stack_status(client, stack).services}[instance]


def test_ready_means_each_region_is_routed_home(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    web = docker_client.containers.get(container_name(stack_name, "web-us-west-1"))
    web.stop(timeout=1)
    try:
        deadline = time.monotonic() + 20
        while served_region(stack.router, "us-west") != "us-east":  # the router failed over
            assert time.monotonic() < deadline, "us-west users never failed over to us-east"
            time.sleep(0.2)
    finally:
        web.start()
    # The container answers its probe a moment before the router has seen it rise again;
    # the wait covers both, so the very next us-west user is served at home.
    wait_until_healthy(docker_client, stack_name, timeout_s=60)
    assert [served_region(stack.router, r) for r in t.REGIONS] == list(t.REGIONS)


def test_status_shows_a_hung_service_down_long_before_dockers_check(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    web = docker_client.containers.get(container_name(stack_name, "web-us-east-1"))
    web.pause()
    try:
        started = time.monotonic()
        assert health_of(docker_client, stack_name, "web-us-east-1") != "healthy"
        # Docker's own check could not have run yet: the probe is what saw it
        assert time.monotonic() - started < DOCKER_CHECK_INTERVAL_S
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


def test_dockers_own_checks_pass_without_an_interpreter(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    """Docker's checks are bash /dev/tcp, redis-cli and pg_isready: shown to work, by waiting
    until every checked container has passed one (its first runs one interval after start)."""
    deadline = time.monotonic() + DOCKER_CHECK_INTERVAL_S * 2 + 30
    while True:
        services = stack_status(docker_client, stack_name).services
        pending = {s.name: s.docker_health for s in services if s.docker_health != "healthy"}
        pending.pop("toxiproxy", None)  # no shell in its image: no Docker check (`running`)
        if not pending:
            return
        assert time.monotonic() < deadline, f"Docker's checks not passing: {pending}"
        time.sleep(2)
