"""Bad input and missing infrastructure: a clear message, a distinct exit code, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@pytest.mark.parametrize(
    "args", [["up"], ["status"], ["down"], ["cleanup"], ["run", "scenarios/smoke.yaml"]]
)
def test_no_docker_engine_is_exit_3_with_how_to_start_one(args: list[str], tmp_path: Path) -> None:
    if args[0] == "run":
        args = [*args, "--reports", str(tmp_path)]  # keep the repo's reports/ clean
    done = cli(*args, env=NO_ENGINE)
    assert done.returncode == 3, done.stderr
    assert "no Docker engine answers at unix:///nonexistent/docker.sock" in done.stderr
    assert "scripts/setup.sh" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_without_engine_still_writes_its_record(tmp_path: Path) -> None:
    done = cli("run", "scenarios/smoke.yaml", "--reports", str(tmp_path), env=NO_ENGINE)
    assert done.returncode == 3
    (results,) = tmp_path.glob("*/results.json")
    assert '"status": "error"' in results.read_text()


def test_invalid_scenario_is_exit_2_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nload: {users: -1, spawn_rate: 1, duration: 10s}\n")
    done = cli("run", str(bad), "--reports", str(tmp_path / "r"), env=NO_ENGINE)
    assert done.returncode == 2, done.stderr
    assert "load.users" in done.stderr and ":2:" in done.stderr
    assert not (tmp_path / "r").exists()  # nothing started, nothing written


def test_unknown_bug_is_a_usage_error() -> None:
    done = cli("run", "scenarios/smoke.yaml", "--bug", "typo", env=NO_ENGINE)
    assert done.returncode == 2
    assert "unknown --bug typo" in done.stderr and "failover_off" in done.stderr


def test_report_of_a_folder_without_results_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("report", str(tmp_path))
    assert done.returncode == 2
    assert "holds no results.json" in done.stderr
