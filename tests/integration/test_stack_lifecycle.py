"""Lifecycle against the real engine: down, a failed start, and a harness killed mid-start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import docker
import pytest

from harness.stack.teardown import tear_down
from harness.vocabulary import ENTRY_ADDRESSES
from tests.integration.helpers import harness_cli, labelled


def test_up_then_down_leaves_nothing(docker_client: docker.DockerClient) -> None:
    name = f"it-down-{os.getpid()}"
    try:
        up = harness_cli("up", "--stack", name, "--workers-per-region", "1")
        assert up.returncode == 0, up.stderr
        assert "http://127.0.0.1:" in up.stdout
        assert all(f"http://{address}:" in up.stdout for address in ENTRY_ADDRESSES.values())
        # witness, dns, toxiproxy, prometheus; per region an entry, a queue, 4 shard nodes, 1 web
        # replica (the default) and 1 worker
        assert labelled(docker_client, name)[0] == 4 + 2 * (1 + 1 + 4 + 1 + 1)
        down = harness_cli("down", "--stack", name)
        assert down.returncode == 0, down.stderr
        assert labelled(docker_client, name) == (0, 0, 0)
    finally:  # a stack a failed assertion left must not outlive the test
        tear_down(docker_client, name)


def test_service_not_healthy_in_time_exits_3_naming_it_and_leaves_nothing(
    docker_client: docker.DockerClient,
) -> None:
    name = f"it-slow-{os.getpid()}"
    try:
        done = harness_cli("up", "--stack", name, "--timeout", "0.5")
        assert done.returncode == 3, done.stderr
        assert "not healthy after" in done.stderr
        assert "Traceback" not in done.stderr
        assert labelled(docker_client, name) == (0, 0, 0)
    finally:  # a stack `up` wrongly left running must not outlive the test
        tear_down(docker_client, name)


def test_cleanup_removes_a_stack_whose_harness_was_killed(
    docker_client: docker.DockerClient,
) -> None:
    name = f"it-kill-{os.getpid()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "up", "--stack", name],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while labelled(docker_client, name)[0] < 5:
            assert time.monotonic() < deadline, "up never created containers"
            time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert labelled(docker_client, name)[0] >= 5, "the killed harness should have left containers"
    done = harness_cli("cleanup", "--stack", name)
    assert done.returncode == 0, done.stderr
    assert labelled(docker_client, name) == (0, 0, 0)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_during_up_removes_what_was_started(
    docker_client: docker.DockerClient, signum: signal.Signals
) -> None:
    name = f"it-ctrlc-{os.getpid()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "up", "--stack", name],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while labelled(docker_client, name)[0] < 5:
            assert time.monotonic() < deadline, "up never created containers"
            time.sleep(0.1)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert labelled(docker_client, name) == (0, 0, 0)
    finally:  # a failed check must not leave a stack behind for the tests after it
        proc.kill()
        proc.wait()
        tear_down(docker_client, name)
