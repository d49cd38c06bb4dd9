"""Helpers of the integration tests: the CLI as a user runs it, and what a stack left behind."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import docker

from harness.stack import labels


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
