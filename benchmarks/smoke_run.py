"""Where the wall time of a whole smoke run goes: build, up, load, judging, report, down and the
rest, each against the load window, the part of the run that is the experiment itself.

One round runs the commands a person runs, as subprocesses, timed from start to exit:

1. `harness images`, warm (the build step: every image is checked and found current);
2. `harness run scenarios/smoke.yaml --stack bench-smoke --reports DIR`. Its results.json
   holds each step's start and end (connect to Docker, stack up, safety reset, register
   metrics, load and faults, judge, heal faults, collect series, collect logs, unregister
   metrics, stack down) and the load window (load_started_at to load_ended_at: the scenario's
   30 s). What comes after the record's end until the process exits is the CLI rendering
   report.html, junit.xml and the index;
3. `harness report RUN_DIR` alone, as a check of that last figure (interpreter start included).

The baseline is the load window; target: everything outside it (build included) under 30 s on
a warm machine. With --rounds N every figure is the median of N rounds.

    .venv/bin/python benchmarks/smoke_run.py [--rounds 1] [--keep DIR]

The run owns its stack bench-smoke and removes it; this script removes whatever is left of it
on every way out (Ctrl-C and SIGTERM are passed on to the run as SIGINT, so it heals and
removes the stack first). --keep DIR keeps the run folders there instead of a temporary one.
Exit 0 target met, 1 missed, 3 a command or the stack failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker.errors
from _common import machine_line, median, verdict, warn_about_other_stacks

from harness.errors import HarnessError
from harness.record import RunRecord, load_record
from harness.report.summary import failure_lines
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.stack.docker_client import connect
from harness.stack.lifecycle import stack_containers
from harness.stack.teardown import tear_down

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "smoke.yaml"
STACK = "bench-smoke"
OVERHEAD_TARGET_S = 30.0
RUN_TIMEOUT_S = 900.0  # up (180 s at most) + load + drain (60 s) + judging, generously
COMMAND_TIMEOUT_S = 300.0  # `harness images` (warm) and `harness report`
STOP_GRACE_S = 120.0  # after SIGINT the run heals, collects and removes its stack
LOG_TAIL_LINES = 15

# Each part of the wall time: (group, what). Groups are the split.
PARTS = [
    ("build", "harness images (warm)"),
    ("other", "interpreter start, validate, plan"),
    ("other", "connect to Docker"),
    ("up", "stack up"),
    ("other", "safety reset, register metrics"),
    ("other", "load generator start and stop"),
    ("load", "load window (baseline)"),
    ("judging", "settle (last scrapes land)"),
    ("judging", "judge SLOs and invariants"),
    ("other", "heal, collect series and logs, unregister"),
    ("down", "stack down"),
    ("report", "render report, junit, index; exit"),
    ("other", "unaccounted (between steps)"),
]
GROUPS = ["build", "up", "load", "judging", "report", "down", "other"]


class BenchError(Exception):
    """A command did not do its part; the message says where to look."""


@dataclass(frozen=True)
class Timed:
    code: int
    started: float  # Unix seconds, the clock results.json uses
    ended: float
    log: Path

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def harness_command() -> list[str]:
    """The `harness` console script next to this interpreter (what a person runs)."""
    script = Path(sys.executable).with_name("harness")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness"]


def stop(popen: subprocess.Popen[bytes]) -> None:
    """SIGINT to the command's group (a run then heals and removes its stack), SIGKILL after a
    grace period. Bounded; holds further Ctrl-C until done."""
    with deferred_interrupts():
        for signum, grace in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(popen.pid, signum)  # its own session: the group id is its pid
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=grace)
                return


def run_cli(args: list[str], log: Path, timeout_s: float) -> Timed:
    """One harness command, output to `log`, stopped for sure on every way out."""
    with open(log, "wb") as out:
        started = time.time()
        popen = subprocess.Popen(
            harness_command() + args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            code = popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            stop(popen)
            raise BenchError(
                f"`harness {' '.join(args)}` still running after {timeout_s:.0f} s; "
                f"stopped it (its output: {log})"
            ) from None
        except BaseException:
            stop(popen)
            raise
        return Timed(code=code, started=started, ended=time.time(), log=log)


def tail(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    return "\n".join(f"    {line}" for line in lines)


def parts(record: RunRecord, images: Timed, run: Timed) -> dict[str, float]:
    """The wall time of one round, split as PARTS (seconds)."""
    steps = {s.name: s for s in record.steps}

    def span(*names: str) -> float:
        return sum(
            s.ended_at - s.started_at
            for s in (steps.get(n) for n in names)
            if s is not None and s.ended_at is not None
        )

    if record.load_started_at is None or record.load_ended_at is None or record.ended_at is None:
        raise BenchError(f"the run recorded no load window ({record.status}): {record.error}")
    load = record.load_ended_at - record.load_started_at
    settle = steps["judge"].started_at - (steps["load and faults"].ended_at or 0.0)
    found = {
        "harness images (warm)": images.seconds,
        "interpreter start, validate, plan": record.steps[0].started_at - run.started,
        "connect to Docker": span("connect to Docker"),
        "stack up": span("stack up"),
        "safety reset, register metrics": span("safety reset", "register metrics"),
        "load generator start and stop": span("load and faults") - load,
        "load window (baseline)": load,
        "settle (last scrapes land)": settle,
        "judge SLOs and invariants": span("judge"),
        "heal, collect series and logs, unregister": span(
            "heal faults", "collect series", "collect logs", "unregister metrics"
        ),
        "stack down": span("stack down"),
        "render report, junit, index; exit": run.ended - record.ended_at,
    }
    in_run = sum(found.values()) - found["harness images (warm)"]
    found["unaccounted (between steps)"] = run.seconds - in_run
    return found


def one_round(n: int, work: Path) -> tuple[dict[str, float], float]:
    """Parts of round n, and the time of `harness report RUN_DIR` alone."""
    images = run_cli(["images"], work / f"images-{n}.log", COMMAND_TIMEOUT_S)
    if images.code != 0:
        raise BenchError(f"`harness images` exited {images.code}:\n{tail(images.log)}")
    reports = work / f"round-{n}"
    command = ["run", str(SCENARIO), "--stack", STACK, "--reports", str(reports)]
    run = run_cli(command, work / f"run-{n}.log", RUN_TIMEOUT_S)
    found = sorted(reports.glob("*/results.json"))
    if run.code not in (0, 1) or len(found) != 1:
        raise BenchError(f"`harness {' '.join(command)}` exited {run.code}:\n{tail(run.log)}")
    run_dir = found[0].parent
    record = load_record(run_dir)
    if run.code == 1:  # a verdict, not a broken run: the times still count
        print(
            f"  round {n}: the smoke run FAILED its checks:", *failure_lines(record), sep="\n    "
        )
    rerender = run_cli(["report", str(run_dir)], work / f"report-{n}.log", COMMAND_TIMEOUT_S)
    if rerender.code != 0:
        raise BenchError(
            f"`harness report {run_dir}` exited {rerender.code}:\n{tail(rerender.log)}"
        )
    split = parts(record, images, run)
    total = images.seconds + run.seconds
    load = split["load window (baseline)"]
    print(
        f"  round {n}: {total:5.1f} s in all, load window {load:4.1f} s, outside it "
        f"{total - load:4.1f} s (run exit {run.code}, {record.status})",
        flush=True,
    )
    return split, rerender.seconds


def leftovers(client: docker.DockerClient) -> None:
    """Remove what is left of our stack; say so when the run itself left something."""
    left = stack_containers(client, STACK)
    if left:
        print(f"  the run left {len(left)} container(s) of {STACK!r}; removing them")
        tear_down(client, STACK)


def report(rounds: list[dict[str, float]], rerenders: list[float]) -> bool:
    med = {what: median([r[what] for r in rounds]) for _, what in PARTS}
    load = med["load window (baseline)"]
    by_group = {
        g: median([sum(r[what] for grp, what in PARTS if grp == g) for r in rounds]) for g in GROUPS
    }
    totals = [sum(r.values()) for r in rounds]
    outside = median([t - r["load window (baseline)"] for t, r in zip(totals, rounds, strict=True)])
    print(f"wall time of a warm smoke run, median of {len(rounds)} round(s):")
    print(f"  {'group':8} {'part':44} {'seconds':>8} {'x load':>7}")
    for group, what in PARTS:
        print(f"  {group:8} {what:44} {med[what]:8.2f} {med[what] / load:7.3f}")
    print(f"  {'total':8} {'':44} {median(totals):8.2f} {median(totals) / load:7.3f}")
    print("by group: " + ", ".join(f"{g} {by_group[g]:.1f} s" for g in GROUPS))
    print(f"`harness report RUN_DIR` alone (interpreter start included): {median(rerenders):.2f} s")
    met = outside < OVERHEAD_TARGET_S
    print(
        f"outside the load window: {outside:.1f} s = {outside / load:.2f} x load window   "
        f"target < {OVERHEAD_TARGET_S:.0f} s warm: {verdict(met)}"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the run folders in this directory")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    print(machine_line(), flush=True)
    rounds: list[dict[str, float]] = []
    rerenders: list[float] = []
    try:
        with interrupts_raise(), tempfile.TemporaryDirectory(prefix="smoke-bench-") as tmp:
            work = args.keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            client = connect()
            try:
                tear_down(client, STACK)  # a stack of ours left by a killed earlier run
                for n in range(1, args.rounds + 1):
                    split, rerender = one_round(n, work)
                    rounds.append(split)
                    rerenders.append(rerender)
                    leftovers(client)
                warn_about_other_stacks(client, STACK)
            finally:
                with deferred_interrupts():
                    tear_down(client, STACK)
    except KeyboardInterrupt:
        print(f"interrupted: the run was stopped and stack {STACK!r} removed", file=sys.stderr)
        return 130
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return 3
    except (BenchError, OSError, docker.errors.DockerException) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 3
    return 0 if report(rounds, rerenders) else 1


if __name__ == "__main__":
    raise SystemExit(main())
