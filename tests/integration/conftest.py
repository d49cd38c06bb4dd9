"""Integration fixtures: one real stack per test session, removed in teardown.

The stack is named it-<pid> and owned by this test process, so if pytest is killed the next
harness start reaps it (and `harness cleanup` always can).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import docker
import pytest

from harness.faults.toxiproxy_client import stack_links
from harness.stack import labels
from harness.stack.config import StackConfig
from harness.stack.docker_client import connect
from harness.stack.endpoints import Endpoints
from harness.stack.lifecycle import bring_up
from harness.stack.teardown import tear_down


def session_stack_config(name: str) -> StackConfig:
    """The session stack's configuration: the one `stack` starts, and the one a verdict cell
    compares its scenario's `stack:` with before it reuses that stack."""
    return StackConfig(name=name, workers_per_region=2)


# The `integration` marker is applied to every test here by tests/conftest.py (a conftest's
# own `pytestmark` does nothing).


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    return connect()


@pytest.fixture(scope="session")
def stack_name() -> str:
    return f"it-{os.getpid()}"


@pytest.fixture(scope="session")
def stack(docker_client: docker.DockerClient, stack_name: str) -> Iterator[Endpoints]:
    config = session_stack_config(stack_name)
    endpoints = bring_up(
        docker_client,
        config,
        timeout_s=180,
        progress=lambda m: print(f"[stack] {m}", file=sys.stderr),
        owner=labels.run_owner(),
    )
    stack_links(endpoints).reset()  # the WAN's latency, as `harness up` puts it
    try:
        yield endpoints
    finally:
        tear_down(docker_client, stack_name)
