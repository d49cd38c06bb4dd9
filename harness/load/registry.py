"""A record of every load generator a harness starts, so one whose harness died is stopped.

A harness killed with SIGKILL cannot stop its Locust, which then runs on (against a stack
that may be reused) until its own time limit. So `start_load` writes one small JSON file per
Locust process, and removes it once the process is stopped:

    <state dir>/load/<locust pid>.json
        pid, pgid, started    Locust's pid, its process group, its start time
        harness_pid, harness_started, host, run_dir

An orphan is a record whose harness process is gone while its Locust is still the process
recorded; `stop_orphans` (run by `harness heal`, `harness cleanup` and every `harness run`)
stops its process group (SIGTERM, then SIGKILL after ORPHAN_TERM_WAIT_S) and removes the
record. A live harness's load is never touched.

Why a file and not an environment variable found through /proc/<pid>/environ: macOS has no
/proc (reading another process's environment there needs sysctl KERN_PROCARGS2), and listing
every process to find ours is slower and racier than reading one known file. Pid reuse is
ruled out by the start time recorded with each pid: /proc/<pid>/stat's starttime on Linux,
`ps -o lstart=` elsewhere (macOS), both without third-party packages.

The state dir is `$CHAOS_HARNESS_STATE_DIR`, else `$XDG_RUNTIME_DIR/chaos-harness` (a per-user
tmpfs on Linux, emptied at reboot, when the processes are gone too), else
`~/.cache/chaos-harness` (macOS has no XDG_RUNTIME_DIR). Records name their host, so a home
directory shared between machines never makes one host kill another's load.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from harness.errors import InfraError

STATE_ENV = "CHAOS_HARNESS_STATE_DIR"
# Locust stops within its --stop-timeout (5 s) on SIGTERM and writes its last CSV rows; 10 s
# covers that on a busy machine, after which SIGKILL is sure.
ORPHAN_TERM_WAIT_S = 10.0
POLL_S = 0.05

Say = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class LoadRecord:
    pid: int
    pgid: int
    started: str  # the process's start time, as process_start() gives it
    harness_pid: int
    harness_started: str
    host: str
    run_dir: str


def state_dir() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    if os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "chaos-harness"
    return Path.home() / ".cache" / "chaos-harness"


def records_dir() -> Path:
    return state_dir() / "load"


def process_start(pid: int) -> str | None:
    """The start time of a live process, as an opaque token; None if there is no such
    process or it is a zombie (it exited; only its exit status is left)."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat[stat.rfind(")") + 2 :].split()  # the name may hold spaces and ")"
        if not fields or fields[0] in ("Z", "X"):
            return None
        return f"{_boot_id()}:{fields[19]}"  # field 22: start time in ticks since boot
    try:
        out = subprocess.run(["ps", "-o", "stat=,lstart=", "-p", str(pid)], capture_output=True,
                             text=True, timeout=5, check=False).stdout.strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if not out or out.startswith("Z"):
        return None
    return out.split(None, 1)[1] if " " in out else out


@cache
def _boot_id() -> str:
    """Ticks since boot repeat across reboots; the boot id tells boots apart."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "boot"


def record_load(pid: int, *, run_dir: str) -> Path:
    """Record a load generator just started by this process (in its own session: pgid = pid)."""
    started = process_start(pid)
    me = os.getpid()
    record = LoadRecord(
        pid=pid,
        pgid=pid,
        started=started or "",
        harness_pid=me,
        harness_started=process_start(me) or "",
        host=socket.gethostname(),
        run_dir=run_dir,
    )
    return write_record(record)


def write_record(record: LoadRecord) -> Path:
    folder = records_dir()
    path = folder / f"{record.pid}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(record)))
        tmp.replace(path)  # atomic: a concurrent `harness heal` never reads half a record
    except OSError as exc:
        raise InfraError(
            f"cannot record the load generator in {folder}: {exc}",
            hint=f"make {folder} writable, or set {STATE_ENV} to a writable folder",
        ) from exc
    return path


def forget(pid: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        (records_dir() / f"{pid}.json").unlink()


def read_records() -> list[LoadRecord]:
    """Every readable record; an unreadable one (half-written by a killed process) is removed."""
    found = []
    for path in sorted(records_dir().glob("*.json")):
        try:
            found.append(LoadRecord(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            with contextlib.suppress(OSError):
                path.unlink()
    return found


def _alive(pid: int, started: str) -> bool:
    return bool(started) and process_start(pid) == started


def is_orphan(record: LoadRecord) -> bool:
    """Its harness is gone (or its pid now names another process). Records of other hosts
    are never orphans here: we cannot see their processes."""
    if record.host != socket.gethostname():
        return False
    return not _alive(record.harness_pid, record.harness_started)


def stop_orphans(say: Say = lambda message: None) -> list[LoadRecord]:
    """Stop every orphaned load generator of this host and remove its record; records of
    processes that are already gone are removed too. Returns the ones stopped."""
    stopped = []
    for record in read_records():
        if not is_orphan(record):
            continue
        if _alive(record.pid, record.started):
            say(
                f"stopping orphaned load generator pid {record.pid} (its harness pid"
                f" {record.harness_pid} is gone; run {record.run_dir})"
            )
            stop_group(record)
            stopped.append(record)
        forget(record.pid)
    return stopped


def stop_group(record: LoadRecord, *, term_wait_s: float | None = None) -> None:
    """SIGTERM to the recorded process group, SIGKILL once the leader is gone or after
    `term_wait_s` (forked workers the leader left are killed with it). Bounded."""
    wait = ORPHAN_TERM_WAIT_S if term_wait_s is None else term_wait_s
    _killpg(record.pgid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while _alive(record.pid, record.started) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    _killpg(record.pgid, signal.SIGKILL)


def _killpg(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
