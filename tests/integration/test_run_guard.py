"""A PASS that cannot lie, on the real stack: a load generator killed mid-run is exit 3 with a
one-line cause and nothing judged; one orphaned by a killed harness is stopped by `harness
heal`. Both reuse the session's stack (its config is the default, as smoke.yaml asks) and
keep load records in a folder of their own, so only their own Locust is found.

Bounded: each test waits at most a few minutes and kills what it started in `finally`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.faults.toxiproxy_client import stack_links
from harness.load.registry import STATE_ENV, process_start
from harness.stack.endpoints import Endpoints

SMOKE = Path(__file__).resolve().parents[2] / "scenarios" / "smoke.yaml"
KILL_AT_S = 8.0  # into the 30 s load; smoke's only fault is due at 10 s
WAIT_S = 240.0  # for the run to start its load on a reused stack (images built, stack up)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, STATE_ENV: str(tmp_path / "state")}


@pytest.fixture
def started(
    tmp_path: Path, env: dict[str, str], stack_name: str
) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(SMOKE), "--reports", str(tmp_path / "r"),
         "--stack", stack_name, "--reuse-stack"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)
        for record in (tmp_path / "state" / "load").glob("*.json"):
            pid = json.loads(record.read_text())["pgid"]  # whatever Locust is left: stop it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def load_started(tmp_path: Path, proc: subprocess.Popen[str]) -> tuple[int, float]:
    """Wait for the run's load: Locust's pid (from the harness's load record) and the
    load's start time (from results.json)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        records = list((tmp_path / "state" / "load").glob("*.json"))
        results = list((tmp_path / "r").glob("*/results.json"))
        if records and results:
            try:
                t0 = json.loads(results[0].read_text()).get("load_started_at")
                pid = int(json.loads(records[0].read_text())["pid"])
            except ValueError:
                t0 = None  # being written
            if t0 is not None:
                return pid, t0
        time.sleep(0.2)
    raise AssertionError(f"the load did not start within {WAIT_S:.0f} s")


def test_a_load_generator_killed_mid_run_is_exit_3_and_not_judged(
    tmp_path: Path, stack: Endpoints, started: subprocess.Popen[str]
) -> None:
    pid, t0 = load_started(tmp_path, started)
    time.sleep(max(0.0, t0 + KILL_AT_S - time.time()))
    os.kill(pid, signal.SIGKILL)
    _, stderr = started.communicate(timeout=180)
    assert started.returncode == 3, stderr[-3000:]
    assert "Traceback" not in stderr
    # The cause, on one line (the summary prints it as "RUN ERROR: error: ...").
    causes = [line for line in stderr.splitlines() if "error: the load generator" in line]
    assert causes and "killed by signal 9" in causes[0] and "not judged" in causes[0], stderr
    assert "NOT JUDGED" in stderr and "PASSED" not in stderr
    record = json.loads(next((tmp_path / "r").glob("*/results.json")).read_text())
    assert record["exit_code"] == 3 and record["deviation"]
    assert record["slos"] == [] and record["invariants"] == []
    assert [f["status"] for f in record["faults"]] == ["never_ran"]  # due at 10 s, never applied
    assert stack_links(stack).all_clean() == []
    assert list((tmp_path / "state" / "load").glob("*.json")) == []  # the record went with it


def test_an_orphaned_load_generator_is_stopped_by_heal(
    tmp_path: Path, stack: Endpoints, stack_name: str, started: subprocess.Popen[str],
    env: dict[str, str],
) -> None:  # fmt: skip
    pid, _ = load_started(tmp_path, started)
    started.kill()  # SIGKILL the harness: it cannot stop its Locust
    started.communicate(timeout=30)
    time.sleep(1.0)
    assert process_start(pid) is not None  # Locust runs on, orphaned
    healed = subprocess.run(
        [sys.executable, "-m", "harness", "heal", "--stack", stack_name],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert healed.returncode == 0, healed.stderr[-2000:]
    assert "stopped 1 orphaned load generator" in healed.stdout
    assert f"orphaned load generator pid {pid}" in healed.stderr
    deadline = time.monotonic() + 20
    while process_start(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process_start(pid) is None
    assert list((tmp_path / "state" / "load").glob("*.json")) == []
