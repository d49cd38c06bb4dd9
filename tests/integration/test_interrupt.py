"""Ctrl-C (SIGINT) while a fault is active: the run heals everything, exits 130, keeps a record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker

from harness.faults.toxiproxy_client import stack_links
from harness.stack.endpoints import Endpoints
from tests.integration.helpers import labelled

SCENARIO = """
name: it-interrupt
load: {users: 6, spawn_rate: 6, duration: 120s, geography: {us-east: 50, us-west: 50}}
faults:
  - {type: latency, link: shard2-us-west, latency_ms: 200, at: 2s, duration: 100s}
  - {type: link_down, link: queue-us-east, at: 2s, duration: 100s}
  - {type: container_pause, service: worker-us-west, at: 2s, duration: 100s}
slos:  # never judged (the run is interrupted); a scenario with nothing to judge is refused
  - {name: errors, phase: fault, error_ratio: {max: 0.5}}
"""


def start_run(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    (tmp_path / "s.yaml").write_text(SCENARIO)
    reports = tmp_path / "reports"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(tmp_path / "s.yaml"),
         "--reports", str(reports), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return proc, reports


def wait_for_faults(reports: Path, proc: subprocess.Popen[str], timeout_s: float = 240) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        for results in reports.glob("*/results.json"):
            try:
                record = json.loads(results.read_text())
            except ValueError:
                continue  # being written
            if sum(f["status"] == "applied" for f in record["faults"]) == 3:
                return results.parent
        time.sleep(0.2)
    raise AssertionError("the faults were never all applied")


def interrupt(proc: subprocess.Popen[str]) -> tuple[int, str]:
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    return proc.returncode, stderr


def test_sigint_on_a_reused_stack_removes_every_fault_and_keeps_the_stack(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    proc, reports = start_run(tmp_path, "--stack", stack_name, "--reuse-stack")
    run_dir = wait_for_faults(reports, proc)
    tox = stack_links(stack)
    assert tox.all_clean() != []  # the faults really are in place
    code, stderr = interrupt(proc)
    assert code == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert tox.all_clean() == []  # no toxic, no disabled proxy
    f = {"label": [f"io.chaos-harness.stack={stack_name}"]}
    states = {c.name: c.status for c in docker_client.containers.list(all=True, filters=f)}
    assert set(states.values()) == {"running"}, states  # paused workers were unpaused
    record = json.loads((run_dir / "results.json").read_text())
    assert record["status"] == "interrupted" and record["exit_code"] == 130
    assert {f["status"] for f in record["faults"]} == {"removed"}


def test_sigint_on_a_run_owned_stack_leaves_no_container(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    name = f"it-int-{os.getpid()}"
    proc, reports = start_run(tmp_path, "--stack", name)
    try:
        run_dir = wait_for_faults(reports, proc)
        code, stderr = interrupt(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130, stderr[-2000:]
    assert labelled(docker_client, name) == (0, 0, 0)
    record = json.loads((run_dir / "results.json").read_text())
    assert record["status"] == "interrupted"


def test_heal_repairs_a_stack_whose_run_was_killed_mid_fault(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    proc, reports = start_run(tmp_path, "--stack", stack_name, "--reuse-stack")
    wait_for_faults(reports, proc)
    proc.kill()  # SIGKILL: no chance to clean up
    proc.communicate(timeout=30)
    subprocess.run(["pkill", "-KILL", "-f", f"{reports}"], check=False)  # its Locust, too
    tox = stack_links(stack)
    assert tox.all_clean() != []  # the killed run left its faults behind
    done = subprocess.run(
        [sys.executable, "-m", "harness", "heal", "--stack", stack_name],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert tox.all_clean() == []
    f = {"label": [f"io.chaos-harness.stack={stack_name}"]}
    states = {c.name: c.status for c in docker_client.containers.list(all=True, filters=f)}
    assert set(states.values()) == {"running"}, states
