"""The adapter that runs Locust: a subprocess on harness/load/locustfile.py, in its own process
group, bounded in time, stopped for sure.

    with start_load(settings, processes=2) as load:
        while load.running:
            print(load.progress())
        code = load.wait(timeout_s=settings.duration_s + 30)

Locust's exit code: 0 no failed request, 1 some requests failed (a verdict for the SLOs, not
an infrastructure error), other codes a crashed load generator. `start_load` implements
`harness.ports.LoadRunner`. Each Locust is recorded (harness/load/registry.py) until it is
stopped, so one whose harness was killed is found and stopped later.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import IO

from harness.errors import InfraError
from harness.load import registry
from harness.load.progress import Progress, parse_history
from harness.load.settings import SETTINGS_ENV, LoadSettings
from harness.net import free_port

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STOP_TIMEOUT_S = 5
HARD_MARGIN_S = 30.0
TERM_GRACE_S = STOP_TIMEOUT_S + 5.0
KILL_GRACE_S = 5.0
TAIL_BYTES = 64 * 1024


def locust_command(settings: LoadSettings, *, processes: int = 1) -> list[str]:
    """The command line of the load generator (pure; start_load runs it)."""
    run_dir = Path(settings.run_dir)
    # The open model runs one scheduler user per process (harness.load.arrivals), all at once.
    users = processes if settings.model == "open" else settings.users
    spawn_rate = processes if settings.model == "open" else settings.spawn_rate
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        settings.host,
        "-u",
        str(users),
        "-r",
        str(spawn_rate),
        "-t",
        f"{max(1, round(settings.duration_s))}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--csv",
        str(run_dir / "locust"),
        "--csv-full-history",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--logfile",
        str(run_dir / "locust.log"),
    ]
    if processes > 1:
        port = free_port()
        command += [
            "--processes",
            str(processes),
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--master-port",
            str(port),
        ]
    return command


def start_load(settings: LoadSettings, *, processes: int = 1) -> LoadProcess:
    """Write `<run_dir>/load-settings.json` and start Locust on it; returns at once."""
    if processes < 1:
        raise InfraError(
            f"load processes must be >= 1, got {processes}", hint="pass --load-workers 1 or more"
        )
    run_dir = Path(settings.run_dir)
    settings = replace(settings, processes=processes)  # the open model splits its rate by it
    path = settings.write()
    env = {**os.environ, SETTINGS_ENV: str(path)}
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    stdout = open(run_dir / "locust.stdout", "wb")  # noqa: SIM115
    stderr = open(run_dir / "locust.stderr", "wb")  # noqa: SIM115
    try:
        popen = subprocess.Popen(
            locust_command(settings, processes=processes),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env,
            cwd=run_dir,
            start_new_session=True,
        )
    except OSError as exc:
        stdout.close()
        stderr.close()
        raise InfraError(
            f"cannot start Locust ({sys.executable} -m locust): {exc}",
            hint="install the harness with its dependencies (pip install -e .)",
        ) from exc
    load = LoadProcess(popen=popen, settings=settings, outputs=(stdout, stderr))
    try:
        registry.record_load(popen.pid, run_dir=str(run_dir))
    except BaseException:
        load.stop()  # an unrecorded load could outlive a killed harness: do not run it
        raise
    return load


class LoadProcess:
    """A running load generator (implements `harness.ports.LoadProcess`). Use it as a context
    manager: leaving it always stops Locust."""

    def __init__(
        self,
        *,
        popen: subprocess.Popen[bytes],
        settings: LoadSettings,
        outputs: tuple[IO[bytes], ...],
    ):
        self.popen = popen
        self.settings = settings
        self.run_dir = Path(settings.run_dir)
        self.history_path = self.run_dir / "locust_stats_history.csv"
        self.started = time.monotonic()
        self.deadline = self.started + settings.duration_s + HARD_MARGIN_S
        self._outputs = outputs

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def progress(self) -> Progress:
        """The latest second of Locust's history; zeros before the first one is written.
        Raises InfraError when Locust exited without writing any history."""
        parsed = self._read_history()
        if parsed is not None:
            return parsed
        if not self.running:
            raise self._crashed("exited before recording any traffic")
        elapsed = time.monotonic() - self.started
        return Progress(elapsed_s=elapsed, users=0, rps=0.0, failures_pct=0.0, p95_ms=None)

    def wait(self, timeout_s: float) -> int:
        """Wait for Locust to finish and return its exit code. Bounded by `timeout_s` and by the
        hard limit duration + 30 s; past either, the load is stopped and InfraError raised."""
        limit = min(time.monotonic() + timeout_s, self.deadline)
        try:
            code = self.popen.wait(timeout=max(0.0, limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.stop()
            raise InfraError(
                f"Locust (pid {self.pid}) still running {time.monotonic() - self.started:.0f} s "
                f"after start (load duration {self.settings.duration_s:.0f} s); stopped it",
                hint=f"see {self.run_dir / 'locust.log'}; the target may hang requests",
            ) from None
        self._close_outputs()
        if self._read_history() is None:
            raise self._crashed(f"exited with code {code} before recording any traffic")
        return code

    def stop(self) -> None:
        """SIGTERM to Locust's process group, SIGKILL after a grace period. Bounded; idempotent."""
        if self._signal(signal.SIGTERM):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=TERM_GRACE_S)
        self._signal(signal.SIGKILL)  # also reaps forked workers the leader left behind
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=KILL_GRACE_S)
        if self.popen.poll() is not None:  # gone; one still running stays findable as an orphan
            registry.forget(self.pid)
        self._close_outputs()

    def __enter__(self) -> LoadProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _signal(self, signum: int) -> bool:
        try:
            os.killpg(self.popen.pid, signum)  # the group id is the pid: start_new_session
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def _read_history(self) -> Progress | None:
        try:
            with open(self.history_path, "rb") as f:
                head = f.read(4096).decode("utf-8", "replace")
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - TAIL_BYTES))
                tail = f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return None
        if size > TAIL_BYTES:
            tail = tail[tail.find("\n") + 1 :]  # the first line is cut
        return parse_history(head, tail)

    def _crashed(self, what: str) -> InfraError:
        return InfraError(
            f"Locust (pid {self.pid}) {what}",
            hint=f"see {self.run_dir / 'locust.log'} and {self.run_dir / 'locust.stderr'}",
            detail=_tail(self.run_dir / "locust.stderr") or _tail(self.run_dir / "locust.log"),
        )

    def _close_outputs(self) -> None:
        for output in self._outputs:
            output.close()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join("  " + line for line in text.splitlines()[-lines:])
