"""Orphaned load generators: recorded when started, found once their harness is gone, stopped
(SIGTERM, then SIGKILL), never touched while their harness lives. Real short-lived processes
stand in for Locust and for a harness that was killed."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.load import registry
from harness.load.registry import LoadRecord, process_start, read_records, stop_orphans

# A "harness" that starts a "Locust" (sleep, in its own session, as start_load does), records
# it with the real code, prints its pid and dies without stopping it: SIGKILL's effect.
KILLED_HARNESS = """
import subprocess, sys
from harness.load import registry
load = subprocess.Popen(sys.argv[1:], start_new_session=True, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
registry.record_load(load.pid, run_dir="reports/r1")
print(load.pid, flush=True)
"""


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(registry.STATE_ENV, str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def spawned() -> Iterator[list[int]]:
    """Pids this test left running, killed at the end whatever happened."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, 9)


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process_start(pid) is None:
            return True
        time.sleep(0.05)
    return False


def orphan_of_a_killed_harness(*command: str) -> int:
    out = subprocess.run([sys.executable, "-c", KILLED_HARNESS, *command], capture_output=True,
                         text=True, check=True, timeout=30)  # fmt: skip
    return int(out.stdout.strip())


def test_an_orphaned_load_is_found_stopped_and_its_record_removed(
    state: Path, spawned: list[int]
) -> None:
    pid = orphan_of_a_killed_harness("sleep", "60")
    spawned.append(pid)
    assert process_start(pid) is not None  # the "Locust" outlived its harness
    record = json.loads((state / "load" / f"{pid}.json").read_text())
    assert record["pgid"] == pid and record["run_dir"] == "reports/r1" and record["started"]
    said: list[str] = []
    stopped = stop_orphans(say=said.append)
    assert [r.pid for r in stopped] == [pid]
    assert gone_within(pid, 5)
    assert read_records() == []
    assert said and f"orphaned load generator pid {pid}" in said[0]


def test_a_live_harness_load_is_never_touched(spawned: list[int]) -> None:
    load = subprocess.Popen(["sleep", "60"], start_new_session=True)
    spawned.append(load.pid)
    registry.record_load(load.pid, run_dir="reports/live")  # this test process is its harness
    assert stop_orphans() == []
    assert load.poll() is None and [r.pid for r in read_records()] == [load.pid]
    load.kill()
    load.wait()


def test_a_load_ignoring_sigterm_is_killed_after_a_bounded_wait(
    monkeypatch: pytest.MonkeyPatch, spawned: list[int]
) -> None:
    monkeypatch.setattr(registry, "ORPHAN_TERM_WAIT_S", 0.3)
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    pid = orphan_of_a_killed_harness(sys.executable, "-c", stubborn)
    spawned.append(pid)
    time.sleep(0.3)  # let it install its handler
    started = time.monotonic()
    assert [r.pid for r in stop_orphans()] == [pid]
    assert gone_within(pid, 5) and time.monotonic() - started < 5


def test_a_reused_pid_is_not_killed_and_its_stale_record_is_removed(spawned: list[int]) -> None:
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    spawned.append(other.pid)
    stale = LoadRecord(pid=other.pid, pgid=other.pid, started="a process long gone",
                       harness_pid=other.pid, harness_started="gone too",
                       host=registry.socket.gethostname(), run_dir="reports/old")  # fmt: skip
    registry.write_record(stale)
    assert stop_orphans() == []
    assert other.poll() is None  # the process now holding that pid is someone else's
    assert read_records() == []
    other.kill()
    other.wait()


def test_records_of_another_host_are_left_alone() -> None:
    remote = LoadRecord(pid=1, pgid=1, started="x", harness_pid=2, harness_started="y",
                        host="another-host", run_dir="r")  # fmt: skip
    registry.write_record(remote)
    assert stop_orphans() == [] and read_records() == [remote]


def test_a_half_written_record_is_dropped(state: Path) -> None:
    (state / "load").mkdir(parents=True)
    (state / "load" / "123.json").write_text('{"pid": 1')
    assert read_records() == [] and not (state / "load" / "123.json").exists()


def test_process_start_tells_a_live_process_from_a_gone_one() -> None:
    me = process_start(os.getpid())
    assert me is not None and me == process_start(os.getpid())
    done = subprocess.Popen(["true"])
    done.wait()
    assert process_start(done.pid) is None


def test_the_state_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(registry.STATE_ENV)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert registry.records_dir() == Path("/run/user/1000/chaos-harness/load")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("HOME", "/home/u")
    assert registry.records_dir() == Path("/home/u/.cache/chaos-harness/load")


@pytest.mark.parametrize(
    "args",
    [["heal"], ["cleanup"], ["run", "scenarios/smoke.yaml"]],
    ids=["heal", "cleanup", "the next run"],
)
def test_heal_cleanup_and_the_next_run_stop_an_orphan_even_without_docker(
    args: list[str], state: Path, tmp_path: Path, spawned: list[int]
) -> None:
    pid = orphan_of_a_killed_harness("sleep", "60")
    spawned.append(pid)
    if args[0] == "run":
        args = [*args, "--reports", str(tmp_path / "reports")]
    env = {**os.environ, registry.STATE_ENV: str(state),
           "DOCKER_HOST": "unix:///nonexistent/docker.sock"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, timeout=60, env=env)  # fmt: skip
    assert done.returncode == 3  # no engine: the rest fails, the orphan is stopped first
    assert f"orphaned load generator pid {pid}" in done.stderr
    assert gone_within(pid, 5) and read_records() == []
