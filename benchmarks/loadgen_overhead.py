"""Requests/s of the harness's load generator versus a plain Locust FastHttpUser.

Both hit the same trivial loopback endpoint (harness.load.fake_target, GET /users/{id}) with no
think time, in two modes: `single` (one Locust process each) and `all` (Locust's --processes N:
a master and N workers, N = every core by default). The target is >= 0.95 (issue 11).

Two schedules (`--schedule`):

- `concurrent` (the default): in each round both generators run AT THE SAME TIME, each
  against a fake target of its own, for --seconds. This VM's speed drifts by a quarter from
  one half-minute to the next under its neighbours (one generator after the other, single
  rounds of the same code ranged from 0.69 to 1.17); run together, both see the same drift.
  Both are CPU-bound and the kernel shares the cores about equally between them, so their
  request rates compare what a request costs each. Counted: the window from WARMUP_S after
  the start to TAIL_S before the end (start-up and spawning left out), each side's rate by
  its own target's count of answered requests (not by the generator's own word) and its CPU
  from /proc (master and workers). Who starts first alternates each round, and which target
  each side gets every second round. CONTROL rounds run plain Locust against plain Locust
  the same way: their median ratio is the schedule's own bias and noise, printed beside the
  figure; a control median further than --control-tolerance from 1 leaves it unjudged.
  Also printed: Locust's own request count over the target's (it lags by up to the last
  second, when Locust did not rewrite its CSV at exit). With all cores, each side's k-th
  worker is pinned to CPU k when the window opens (`--no-pin`: not): left to the scheduler,
  the six busy processes (two workers and a target a side) sat on the 2 vCPUs differently
  each round, and single rounds spread 0.74-1.16; pinned, each core runs one worker of each
  side, and rounds spread 0.94-0.98 (masters and targets still float). With one process a
  side, both processes are pinned to the first CPU (the targets float): unpinned, one-process
  rounds spread 0.79-1.24 and their controls read 0.86-0.90.
- `sequential`: the two generators back to back, the first one alternating, each round's
  ratio from Locust's own Requests/s of the Aggregated row of its `_stats.csv` (requests /
  (last request - start of the test); the test starts when the runner starts the users, after
  the imports and, with --processes, the workers' connecting). Kept for comparison with the
  figures measured this way before.

Either way the figure is the median over rounds of harness req/s / plain req/s, and the CPU
time per request beside it is a cross-check, not judged.

The machines are shared: a round counts only if every other process together used at most
--max-foreign cores meanwhile (the machine's busy time in /proc/stat minus this benchmark's
own processes); a busier round is run again, up to 3 x as many rounds in all.

    .venv/bin/python benchmarks/loadgen_overhead.py [--mode both|single|all]
        [--schedule concurrent|sequential] [--processes -1] [--users 20] [--seconds 12]
        [--rounds 8] [--control-rounds 4] [--control-tolerance 0.03] [--max-foreign 0.25]
        [--no-pin]

Every child runs in its own process group, killed on every way out (Ctrl-C and SIGTERM too);
every wait is bounded. Traffic goes to 127.0.0.1 only. Exit 0 every ratio met, 1 one missed
or not judged (no quiet round, or the control off), 3 a load generator or a target failed,
130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from _common import load_average, machine_line, median, verdict

from harness.errors import HarnessError
from harness.load.runner import start_load
from harness.load.settings import LoadSettings
from harness.net import free_port
from harness.run.signals import deferred_interrupts, interrupts_raise

TARGET_RATIO = 0.95  # issue 11: the new accounting must stay this cheap
START_TIMEOUT_S = 15.0  # for the target to print its port
RUN_MARGIN_S = 30.0  # a load run longer than its duration + this is killed
KILL_WAIT_S = 5.0
MAX_ATTEMPTS = 3  # rounds run at most, as a multiple of --rounds, when the machine is busy
COUNTS_MAX_BYTES = 64 * 1024  # the target's /_counts: a few home regions
WARMUP_S = 4.0  # concurrent: users started and workers connected before the window opens
TAIL_S = 1.0  # concurrent: the window closes this long before the runs' end

PLAIN_LOCUSTFILE = """
from locust import FastHttpUser, constant, task

class Plain(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.client.post("/users", json={"name": "plain"}, headers={"X-Home-Region": "us-east"})

    @task
    def read_user(self):
        self.client.get("/users/1", name="/users/{id}", headers={"X-Home-Region": "us-east"})
"""


class BenchError(Exception):
    """A load generator or the target did not do its part; the message says where to look."""


class ProcessGroups:
    """The process groups this benchmark started and has not cleaned up yet. Leaving the
    block SIGKILLs whatever is left of them, with Ctrl-C held until that is done."""

    def __init__(self) -> None:
        self.live: set[int] = set()

    def add(self, pid: int) -> None:
        self.live.add(pid)

    def kill(self, pid: int) -> None:
        """SIGKILL the group led by `pid` (start_new_session: its pgid is its pid)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        self.live.discard(pid)

    def __enter__(self) -> ProcessGroups:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with deferred_interrupts():
            for pid in list(self.live):
                self.kill(pid)


@dataclass(frozen=True)
class Run:
    rps: float
    requests: int
    failures: int
    cpu_s: float  # CPU time of the generator's processes
    target_busy: float  # CPU seconds of the target per wall second
    foreign: float  # CPU seconds of every other process on the machine per wall second

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.cpu_s / self.requests if self.requests else float("nan")


class FakeTarget:
    """harness.load.fake_target on 127.0.0.1, in its own process group."""

    def __init__(self, groups: ProcessGroups) -> None:
        self.groups = groups
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "harness.load.fake_target"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        groups.add(self.popen.pid)
        self.host = f"http://127.0.0.1:{self._port()}"

    def _port(self) -> int:
        assert self.popen.stdout is not None
        ready, _, _ = select.select([self.popen.stdout], [], [], START_TIMEOUT_S)
        line = self.popen.stdout.readline().strip() if ready else ""
        if not line.isdigit():
            raise BenchError(
                f"harness.load.fake_target printed no port within {START_TIMEOUT_S:.0f} s "
                f"(exit code {self.popen.poll()}); run `python -m harness.load.fake_target`"
            )
        return int(line)

    def cpu_s(self) -> float:
        """User + system CPU seconds of the target so far (Linux /proc); NaN when gone."""
        return process_cpu_s(self.popen.pid, gone=float("nan"))

    def served(self) -> int:
        """Requests the target has answered so far, every route but its own `/_` ones: an
        observer of the generator's throughput that is not the generator."""
        url = f"{self.host}/_counts"
        try:
            with urllib.request.urlopen(url, timeout=START_TIMEOUT_S) as answer:
                counts = json.loads(answer.read(COUNTS_MAX_BYTES))
        except (OSError, ValueError) as exc:
            raise BenchError(f"the target did not answer {url}: {exc}") from exc
        return sum(int(n) for n in counts.values())

    def stop(self) -> None:
        self.groups.kill(self.popen.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=KILL_WAIT_S)


def own_cpu_s(target: FakeTarget) -> float:
    """CPU seconds of this benchmark: itself, its reaped children (the load generators and
    their workers, accounted when reaped) and the target."""
    total = target.cpu_s()
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def machine_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot, steal included (/proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def locust_totals(stats_csv: Path) -> tuple[float, int, int]:
    """Requests/s, requests and failures of Locust's Aggregated row."""
    try:
        with open(stats_csv, newline="") as f:
            row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    except (OSError, StopIteration) as exc:
        raise BenchError(f"no Aggregated row in {stats_csv}: {exc!r}") from exc
    return float(row["Requests/s"]), int(row["Request Count"]), int(row["Failure Count"])


def measured(target: FakeTarget, go: Callable[[], None], stats_csv: Path) -> Run:
    """Run `go()` (one load run, returns when its processes are reaped) and measure it."""
    cpu0, busy0, wall0 = children_cpu_s(), target.cpu_s(), time.monotonic()
    ours0, all0 = own_cpu_s(target), machine_cpu_s()
    go()
    cpu1, busy1, wall1 = children_cpu_s(), target.cpu_s(), time.monotonic()
    ours1, all1 = own_cpu_s(target), machine_cpu_s()
    rps, requests, failures = locust_totals(stats_csv)
    wall = max(wall1 - wall0, 1e-9)
    return Run(
        rps=rps,
        requests=requests,
        failures=failures,
        cpu_s=cpu1 - cpu0,
        target_busy=(busy1 - busy0) / wall,
        foreign=max(0.0, (all1 - all0) - (ours1 - ours0)) / wall,
    )


class PlainRun:
    """A plain Locust run, started; `finish()` waits for it (bounded) and kills what is left."""

    def __init__(
        self, target: FakeTarget, groups: ProcessGroups, args: argparse.Namespace,
        processes: int, work: Path, tag: str = "plain",
    ) -> None:  # fmt: skip
        locustfile = work / f"{tag}_locustfile.py"
        locustfile.write_text(PLAIN_LOCUSTFILE)
        self.stats_csv = work / f"{tag}_stats.csv"
        self.stderr_path = work / f"{tag}.stderr"
        self.groups, self.limit_s = groups, args.seconds + RUN_MARGIN_S
        command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
                   "--host", target.host, "-u", str(args.users), "-r", str(args.users),
                   "-t", f"{args.seconds}s", "--csv", str(work / tag), "--only-summary",
                   "--loglevel", "WARNING", "--logfile", str(work / f"{tag}.log")]  # fmt: skip
        if processes > 1:
            port = str(free_port())
            command += ["--processes", str(processes), "--master-bind-host", "127.0.0.1",
                        "--master-bind-port", port, "--master-port", port]  # fmt: skip
        with open(self.stderr_path, "wb") as stderr:
            self.popen = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=work,
                start_new_session=True,
            )
        groups.add(self.popen.pid)
        self.pid = self.popen.pid

    def finish(self) -> None:
        try:
            code = self.popen.wait(timeout=self.limit_s)
        except subprocess.TimeoutExpired:
            raise BenchError(
                f"plain Locust still running {self.limit_s:.0f} s after start; killed it "
                "(the target may hang requests)"
            ) from None
        finally:
            self.groups.kill(self.popen.pid)  # also workers its master left behind
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=KILL_WAIT_S)
        if code not in (0, 1):  # 1: some requests failed, still a measurement
            tail = self.stderr_path.read_text(errors="replace")[-2000:]
            raise BenchError(f"plain Locust exited with code {code}:\n{tail}")


def bench_load_settings(host: str, args: argparse.Namespace, run_dir: Path) -> LoadSettings:
    """The harness's load as the benchmarks run it: --users with no think time, all reading
    users (GET /users/{id}), 70/30 over the two regions."""
    return LoadSettings(
        host=host,
        users=args.users,
        spawn_rate=args.users,
        duration_s=args.seconds,
        geography={"us-east": 70, "us-west": 30},
        tasks={"read_user": 1},
        seed=1,
        metrics_host="127.0.0.1",
        metrics_port=free_port(),
        run_dir=str(run_dir),
        think_time_s=(0.0, 0.0),
    )


class HarnessRun:
    """The harness's load generator (start_load, as a run starts it), started; `finish()`
    waits for it (bounded) and stops what is left."""

    def __init__(
        self, target: FakeTarget, groups: ProcessGroups, args: argparse.Namespace,
        processes: int, work: Path,
    ) -> None:  # fmt: skip
        settings = bench_load_settings(target.host, args, work / "harness")
        self.stats_csv = work / "harness" / "locust_stats.csv"
        self.groups, self.limit_s = groups, args.seconds + RUN_MARGIN_S
        self.load = start_load(settings, processes=processes)
        groups.add(self.load.pid)
        self.pid = self.load.pid

    def finish(self) -> None:
        with self.load:
            self.load.wait(timeout_s=self.limit_s)
        self.groups.kill(self.load.pid)


def run_plain(
    target: FakeTarget, groups: ProcessGroups, args: argparse.Namespace, processes: int, work: Path
) -> Run:
    def go() -> None:
        PlainRun(target, groups, args, processes, work).finish()

    return measured(target, go, work / "plain_stats.csv")


def run_harness(
    target: FakeTarget, groups: ProcessGroups, args: argparse.Namespace, processes: int, work: Path
) -> Run:
    def go() -> None:
        HarnessRun(target, groups, args, processes, work).finish()

    return measured(target, go, work / "harness" / "locust_stats.csv")


@dataclass
class ModeResult:
    processes: int
    harness: list[Run]
    plain: list[Run]
    busy: list[tuple[Run, Run]]  # rounds not counted: other processes used the machine
    noisy: bool = False  # no round was quiet: every round is counted

    @property
    def ratio(self) -> float:
        """Median over rounds of harness req/s / plain req/s."""
        return median([h.rps / p.rps for h, p in zip(self.harness, self.plain, strict=True)])

    @property
    def met(self) -> bool:
        return not self.noisy and self.ratio >= TARGET_RATIO

    @property
    def cpu_ratio(self) -> float:
        """Plain CPU per request over harness CPU per request (higher is better, as `ratio`)."""
        return median(
            [
                p.cpu_us_per_request / h.cpu_us_per_request
                for h, p in zip(self.harness, self.plain, strict=True)
            ]
        )


def one_round(
    target: FakeTarget, groups: ProcessGroups, args: argparse.Namespace, processes: int, n: int
) -> tuple[Run, Run]:
    """Both generators back to back, the first one alternating with `n`."""
    with tempfile.TemporaryDirectory(prefix="loadgen-bench-") as tmp:
        work = Path(tmp)
        if n % 2:
            plain = run_plain(target, groups, args, processes, work)
            return run_harness(target, groups, args, processes, work), plain
        harness = run_harness(target, groups, args, processes, work)
        return harness, run_plain(target, groups, args, processes, work)


def bench_mode(
    target: FakeTarget, groups: ProcessGroups, args: argparse.Namespace, processes: int
) -> ModeResult:
    """`args.rounds` rounds in which other processes used at most `args.max_foreign` cores;
    busier rounds are run again, up to MAX_ATTEMPTS times `args.rounds` rounds in all."""
    result = ModeResult(processes=processes, harness=[], plain=[], busy=[])
    for n in range(MAX_ATTEMPTS * args.rounds):
        if len(result.harness) == args.rounds:
            break
        h, p = one_round(target, groups, args, processes, n)
        foreign = max(h.foreign, p.foreign)
        quiet = foreign <= args.max_foreign
        print(
            f"  round {n + 1}: harness {h.rps:6.0f} req/s, plain {p.rps:6.0f} req/s, "
            f"ratio {h.rps / p.rps:.3f}; CPU {h.cpu_us_per_request:.0f} vs "
            f"{p.cpu_us_per_request:.0f} us/request; target busy "
            f"{h.target_busy:.0%} / {p.target_busy:.0%}; other load {foreign:.2f} cores"
            + ("" if quiet else " (not counted)")
            + (f"; FAILED requests {h.failures} / {p.failures}" if h.failures + p.failures else ""),
            flush=True,
        )
        if quiet:
            result.harness.append(h)
            result.plain.append(p)
        else:
            result.busy.append((h, p))
    if not result.harness:  # never quiet: report every round, and say so
        result.noisy = True
        result.harness.extend(h for h, _ in result.busy)
        result.plain.extend(p for _, p in result.busy)
    return result


def report(name: str, result: ModeResult) -> None:
    h_rps, p_rps = median([r.rps for r in result.harness]), median([r.rps for r in result.plain])
    h_cpu = median([r.cpu_us_per_request for r in result.harness])
    p_cpu = median([r.cpu_us_per_request for r in result.plain])
    busy = median([r.target_busy for r in result.harness + result.plain])
    plural = "es" if result.processes > 1 else ""
    print(f"{name} ({result.processes} load process{plural} each):")
    if result.noisy:
        print(
            f"  NO QUIET ROUND: all {len(result.busy)} busy rounds counted, the figures are noise"
        )
    else:
        print(
            f"  {len(result.harness)} quiet rounds counted, {len(result.busy)} busy ones left out"
        )
    print(f"  plain FastHttpUser:     {p_rps:6.0f} req/s  {p_cpu:4.0f} us CPU/request (median)")
    print(f"  harness load generator: {h_rps:6.0f} req/s  {h_cpu:4.0f} us CPU/request (median)")
    print(f"  target busy (median):   {busy:.0%} of one core")
    judged = "not judged (no quiet round)" if result.noisy else verdict(result.met)
    print(
        f"  ratio req/s (median of rounds): {result.ratio:.3f}   target >= {TARGET_RATIO}: {judged}"
    )
    print(f"  ratio CPU/request, plain / harness: {result.cpu_ratio:.3f}")


# The concurrent schedule: in each round both generators run at the same time, each against
# its own fake target, so the VM's speed drifting from one second to the next (it does, by a
# quarter, under its neighbours) falls on both alike. The kernel gives the two busy process
# trees about equal CPU, so their request rates compare what a request costs each. Control
# rounds run plain Locust against plain Locust the same way: their ratio is the noise floor.


@dataclass(frozen=True)
class Window:
    """One generator over the counted window of a concurrent round."""

    rps: float  # requests its own target answered, per second
    cpu_us_per_request: float  # CPU of its processes (master and workers), per request


@dataclass(frozen=True)
class Pairing:
    """One concurrent round: `base` (plain Locust) against `other` (the harness, or plain
    Locust again in a control round), and what the rest of the machine used meanwhile."""

    base: Window
    other: Window
    foreign: float
    counted: tuple[float, float]  # Locust's request count / its target's, base and other

    @property
    def ratio(self) -> float:
        return self.other.rps / self.base.rps

    @property
    def cpu_ratio(self) -> float:
        return self.base.cpu_us_per_request / self.other.cpu_us_per_request


def tree_pids(pid: int) -> list[int]:
    """`pid` and its descendants (Locust's master forks its workers), from /proc."""
    pids, i = [pid], 0
    while i < len(pids):
        try:
            kids = Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()
        except OSError:
            kids = []
        pids.extend(int(k) for k in kids)
        i += 1
    return pids


def process_cpu_s(pid: int, gone: float = 0.0) -> float:
    """User + system CPU seconds of one live process (Linux /proc); `gone` when it is."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return gone
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> float:
    return sum(process_cpu_s(p) for p in tree_pids(pid))


class Started(Protocol):
    pid: int
    stats_csv: Path

    def finish(self) -> None: ...


def concurrent_round(
    targets: tuple[FakeTarget, FakeTarget], groups: ProcessGroups, args: argparse.Namespace,
    processes: int, n: int, *, control: bool,
) -> Pairing:  # fmt: skip
    """Plain Locust and, at the same time, the harness (plain Locust again when `control`),
    each on a target of its own. Who starts first alternates with `n`, and which target each
    gets with `n // 2`, so neither side keeps an advantage. Counted: the window from WARMUP_S
    after the start to TAIL_S before the end, by each target's count and each generator's
    processes' CPU."""
    mine = targets if (n // 2) % 2 == 0 else (targets[1], targets[0])  # base's, other's
    with tempfile.TemporaryDirectory(prefix="loadgen-bench-") as tmp:
        work = Path(tmp)

        def base() -> Started:
            return PlainRun(mine[0], groups, args, processes, work)

        def other() -> Started:
            if control:
                return PlainRun(mine[1], groups, args, processes, work, tag="control")
            return HarnessRun(mine[1], groups, args, processes, work)

        served0 = [t.served() for t in mine]
        if n % 2:  # the other side first
            started = other()
            runs: list[Started] = [base(), started]
        else:
            runs = [base(), other()]  # in this order
        time.sleep(WARMUP_S)
        if args.pin:
            pin_workers([r.pid for r in runs])
        a = [(tree_cpu_s(r.pid), t.served()) for r, t in zip(runs, mine, strict=True)]
        t0, all0, self0 = time.monotonic(), machine_cpu_s(), _self_and_targets_cpu_s(targets)
        time.sleep(args.seconds - WARMUP_S - TAIL_S)
        b = [(tree_cpu_s(r.pid), t.served()) for r, t in zip(runs, mine, strict=True)]
        t1, all1, self1 = time.monotonic(), machine_cpu_s(), _self_and_targets_cpu_s(targets)
        for run in runs:
            run.finish()
        counted = [
            locust_totals(r.stats_csv)[1] / max(1, t.served() - s)
            for r, t, s in zip(runs, mine, served0, strict=True)
        ]
    wall = max(t1 - t0, 1e-9)
    windows = [
        Window(rps=(r1 - r0) / wall, cpu_us_per_request=1e6 * (c1 - c0) / max(1, r1 - r0))
        for (c0, r0), (c1, r1) in zip(a, b, strict=True)
    ]
    ours = (self1 - self0) + sum(c1 - c0 for (c0, _), (c1, _) in zip(a, b, strict=True))
    return Pairing(
        base=windows[0],
        other=windows[1],
        foreign=max(0.0, (all1 - all0) - ours) / wall,
        counted=(counted[0], counted[1]),
    )


def pin_workers(leaders: list[int]) -> None:
    """Each side's k-th worker (by pid) on CPU k: the two sides' workers share each core
    pairwise, rather than wherever the scheduler put them this round. A side of one process
    (no workers) is that process: both share the first CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    for leader in leaders:
        for k, pid in enumerate(sorted(tree_pids(leader)[1:]) or [leader]):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, {cpus[k % len(cpus)]})


def _self_and_targets_cpu_s(targets: tuple[FakeTarget, FakeTarget]) -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + sum(t.cpu_s() for t in targets)


@dataclass
class ConcurrentResult:
    processes: int
    rounds: list[Pairing]
    controls: list[Pairing]
    busy: int = 0  # rounds not counted: other processes used the machine
    noisy: bool = False  # no quiet round: every round is counted

    @property
    def ratio(self) -> float:
        return median([r.ratio for r in self.rounds])

    @property
    def control(self) -> float:
        return median([r.ratio for r in self.controls])

    def met(self, tolerance: float) -> bool:
        return not self.noisy and self.calibrated(tolerance) and self.ratio >= TARGET_RATIO

    def calibrated(self, tolerance: float) -> bool:
        """The control rounds say plain equals plain, within `tolerance`: no bias of the
        schedule (who starts first, which target) skews the comparison."""
        return not self.controls or abs(self.control - 1.0) <= tolerance


def round_plan(rounds: int, controls: int) -> list[bool]:
    """Which rounds are control rounds (True), spread evenly among the harness rounds."""
    slots = [((i + 0.5) / rounds, False) for i in range(rounds)]
    slots += [((j + 0.5) / controls, True) for j in range(controls)]
    return [control for _, control in sorted(slots)]


def bench_concurrent(
    targets: tuple[FakeTarget, FakeTarget], groups: ProcessGroups, args: argparse.Namespace,
    processes: int,
) -> ConcurrentResult:  # fmt: skip
    """`args.rounds` harness rounds and `args.control_rounds` control rounds in which other
    processes used at most `args.max_foreign` cores; busier rounds are run again, up to
    MAX_ATTEMPTS times as many rounds in all."""
    result = ConcurrentResult(processes=processes, rounds=[], controls=[])
    pending, busy = round_plan(args.rounds, args.control_rounds), []
    attempts = MAX_ATTEMPTS * len(pending)
    tried = {False: 0, True: 0}  # rounds of each kind so far: each kind alternates on its own
    for n in range(attempts):
        if not pending:
            break
        control = pending[0]
        pair = concurrent_round(targets, groups, args, processes, tried[control], control=control)
        tried[control] += 1
        quiet = pair.foreign <= args.max_foreign
        who = "plain  " if control else "harness"
        print(
            f"  round {n + 1} ({'control' if control else 'harness'}): {who} "
            f"{pair.other.rps:6.0f} req/s, plain {pair.base.rps:6.0f} req/s, ratio "
            f"{pair.ratio:.3f}; CPU {pair.other.cpu_us_per_request:.0f} vs "
            f"{pair.base.cpu_us_per_request:.0f} us/request; other load {pair.foreign:.2f} "
            "cores" + ("" if quiet else " (not counted)"),
            flush=True,
        )
        if quiet:
            pending.pop(0)
            (result.controls if control else result.rounds).append(pair)
        else:
            busy.append((control, pair))
    result.busy = len(busy)
    if not result.rounds:  # never quiet: report every round, and say so
        result.noisy = True
        for control, pair in busy:
            (result.controls if control else result.rounds).append(pair)
    return result


def report_concurrent(name: str, result: ConcurrentResult, tolerance: float) -> None:
    def med(values: list[float]) -> str:
        return f"{median(values):.3f} ({min(values):.3f}-{max(values):.3f})" if values else "-"

    rounds, controls = result.rounds, result.controls
    plural = "es" if result.processes > 1 else ""
    print(f"{name} ({result.processes} load process{plural} each, both at once):")
    if result.noisy:
        print(f"  NO QUIET ROUND: all {result.busy} busy rounds counted, the figures are noise")
    else:
        print(
            f"  {len(rounds)} harness and {len(controls)} control rounds counted, "
            f"{result.busy} busy ones left out"
        )
    p_rps = median([r.base.rps for r in rounds])
    h_rps = median([r.other.rps for r in rounds])
    p_cpu = median([r.base.cpu_us_per_request for r in rounds])
    h_cpu = median([r.other.cpu_us_per_request for r in rounds])
    print(f"  plain FastHttpUser:     {p_rps:6.0f} req/s  {p_cpu:4.0f} us CPU/request (median)")
    print(f"  harness load generator: {h_rps:6.0f} req/s  {h_cpu:4.0f} us CPU/request (median)")
    counted = [c for r in rounds + controls for c in r.counted]
    print(f"  Locust's request counts / the targets' counts: {min(counted):.4f}-{max(counted):.4f}")
    print(f"  control, plain / plain (median, range): {med([r.ratio for r in controls])}")
    if result.noisy:
        judged = "not judged (no quiet round)"
    elif not result.calibrated(tolerance):
        judged = f"not judged (the control is off 1 by more than {tolerance})"
    else:
        judged = verdict(result.met(tolerance))
    print(f"  ratio req/s, harness / plain (median, range): {med([r.ratio for r in rounds])}"
          f"   target >= {TARGET_RATIO}: {judged}")  # fmt: skip
    print(f"  ratio CPU/request, plain / harness: {med([r.cpu_ratio for r in rounds])}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mode", choices=("both", "single", "all"), default="both")
    parser.add_argument(
        "--schedule",
        choices=("concurrent", "sequential"),
        default="concurrent",
        help="both generators at once, each with its own target (default), or one after the other",
    )
    parser.add_argument(
        "--processes", type=int, default=-1, help="load processes in mode all; -1: every core"
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--control-rounds",
        type=int,
        default=4,
        help="concurrent: rounds of plain Locust against plain Locust (the noise floor)",
    )
    parser.add_argument(
        "--control-tolerance",
        type=float,
        default=0.03,
        help="concurrent: a control median further than this from 1 leaves the ratio unjudged",
    )
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="concurrent: each side's k-th worker on CPU k once the window opens, a side of "
        "one process on the first CPU (default); --no-pin leaves them where the scheduler "
        "puts them",
    )
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.25,
        help="a round counts only if other processes used at most this many cores meanwhile",
    )
    args = parser.parse_args()
    if args.users < 1 or args.seconds < 1 or args.rounds < 1 or args.processes == 0:
        parser.error("--users, --seconds and --rounds must be >= 1; --processes >= 1 or -1")
    if args.control_rounds < 0:
        parser.error("--control-rounds must be >= 0")
    if args.schedule == "concurrent" and args.seconds < WARMUP_S + TAIL_S + 3:
        least = WARMUP_S + TAIL_S + 3
        parser.error(f"--seconds must be >= {least:.0f} with the concurrent schedule")
    if args.processes < 0:
        args.processes = os.cpu_count() or 1
    return args


def with_target(body: Callable[[FakeTarget, ProcessGroups], None]) -> int | None:
    """Run `body` with the fake target up, every child killed on every way out; None when it
    ran, else the exit code of what stopped it (3 a failure, 130 interrupted), said on stderr."""
    try:
        with interrupts_raise(), ProcessGroups() as groups:
            target = FakeTarget(groups)
            try:
                body(target, groups)
            finally:
                target.stop()
    except KeyboardInterrupt:
        print("interrupted: every load process and the target were killed", file=sys.stderr)
        return 130
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return 3
    except (BenchError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 3
    return None


def main() -> int:
    args = parse_args()
    modes = {"single": 1, "all": args.processes}
    if args.mode != "both":
        modes = {args.mode: modes[args.mode]}
    print(machine_line(), flush=True)
    sequential: dict[str, ModeResult] = {}
    concurrent: dict[str, ConcurrentResult] = {}

    def measure(target: FakeTarget, groups: ProcessGroups) -> None:
        second = FakeTarget(groups) if args.schedule == "concurrent" else None
        for name, processes in modes.items():
            pinned = ", load processes pinned" if second and args.pin else ""
            print(f"mode {name}: {processes} process(es), {args.schedule} rounds "
                  f"of {args.seconds} s, {args.users} users{pinned}", flush=True)  # fmt: skip
            if second is None:
                sequential[name] = bench_mode(target, groups, args, processes)
            else:
                concurrent[name] = bench_concurrent((target, second), groups, args, processes)

    failed = with_target(measure)
    if failed is not None:
        return failed
    for name, result in sequential.items():
        report(name, result)
    for name, pairs in concurrent.items():
        report_concurrent(name, pairs, args.control_tolerance)
    print(f"load average at the end: {load_average():.1f} (on {os.cpu_count()} cpus)")
    met = [r.met for r in sequential.values()]
    met += [r.met(args.control_tolerance) for r in concurrent.values()]
    return 0 if all(met) else 1


if __name__ == "__main__":
    raise SystemExit(main())
