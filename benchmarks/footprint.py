"""The stack's footprint: the memory it holds, and the CPU it leaves to the load generator while
it idles.

The stack is the two-data-centre one (issue 14: a queue and a copy of every shard per region,
Patroni and the witness's etcd), up as `harness up` leaves it: the WAN's latency on every link
between sites. Its targets (issue 14, for the larger stack): warm `up` within 20 s, idle CPU
of containers + engine <= 0.2 cores (issue 12's 0.1 was for the 14-container stack), memory
of all containers under 2 GB.

- memory: each container's memory from the Docker stats API (non-streaming, one-shot, the
  whole pass bounded): RSS minus page cache (what `docker stats` shows; read as
  stack_lifecycle.py reads it) per container and in all, judged against 2 GB; the API's raw
  `usage` (page cache included) in all alongside. Also the CPU the idle stack burns (1 s
  scrapes, the entries' and the DNS server's checks, Patroni's loops) over 10 s: per
  container (cgroup counters), in the engine (dockerd, containerd, the shims, docker-proxy,
  and the children they reaped, such as runc), for the whole machine (/proc/stat, against the
  machine without the stack), and the `docker exec`s per second into the stack (the engine's
  events: none, the stack has no Docker health checks); target containers + engine <= 0.2
  cores. The scrapes' share: the same with Prometheus paused.
- lifecycle: a second warm `up` (images built; every shard replicated, routing included, the
  WAN's latency applied) to all ready, target 20 s, against the moment its last container
  started; how soon `harness status` shows a killed worker and a paused (hung) web replica
  down, against 10 s (the shortest Docker health-check interval issue 12 allowed).
- CPU left for the load generator: requests/s of the harness's load generator (one Locust
  process, no think time, GET /users/{id}) against the trivial loopback endpoint
  harness.load.fake_target, driven as benchmarks/loadgen_overhead.py drives it, with no stack
  running (the baseline) and with the idle stack up. The rounds go A-B-A: --rounds without the
  stack, --rounds with it, --rounds after it is removed; the baseline is the median of both A
  sets, so drift over the run falls on both sides. Printed: the ratio with-stack / baseline.

    .venv/bin/python benchmarks/footprint.py [--seconds 8] [--rounds 3] [--users 20]

Starts the stack bench-footprint (owned by this process) and removes it on every way out; the
target and every Locust run are in their own process groups, killed on every way out. Traffic
goes to 127.0.0.1 only. Exit 0 every target met, 1 one missed, 3 something failed, 130
interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import docker
import docker.errors
from _common import machine_line, median, verdict, warn_about_other_stacks
from loadgen_overhead import bench_load_settings

from harness.errors import HarnessError
from harness.faults.toxiproxy_client import stack_links
from harness.load.runner import start_load
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.stack import labels
from harness.stack.config import StackConfig
from harness.stack.docker_client import connect
from harness.stack.images import ensure_images
from harness.stack.lifecycle import bring_up
from harness.stack.status import stack_status, wait_until_healthy
from harness.stack.teardown import tear_down

STACK = "bench-footprint"
MEMORY_TARGET_MB = 2048.0
UP_TIMEOUT_S = 180.0
SETTLE_S = 10.0  # after `up`, before the idle stack is measured
CPU_WINDOW_S = 10.0
EXEC_WINDOW_S = 4
ENGINE = frozenset({"dockerd", "containerd", "containerd-shim", "docker-proxy"})
START_TIMEOUT_S = 15.0  # for the target to print its port
RUN_MARGIN_S = 30.0  # a load run longer than its duration + this is stopped
IDLE_CPU_TARGET = 0.2  # cores, containers + engine (issue 14: the two-data-centre stack)
UP_TARGET_S = 20.0  # warm `up` to all ready (issue 14)
STATS_DEADLINE_S = 60.0  # one pass of the stats API over every container of the stack
LOADGEN_SHARE_TARGET = 0.9  # the generator's req/s with the idle stack up / without
STATUS_DEADLINE_S = 60.0  # a service not shown down by then counts as never
SHOWN_DOWN_BOUND_S = 10.0  # issue 12: down within the check interval, which was at least 10 s


def quiet(message: str) -> None:
    pass


class BenchError(Exception):
    """The target or a load run did not do its part; the message says where to look."""


class FakeTarget:
    """harness.load.fake_target on 127.0.0.1 in its own process group, killed on exit."""

    def __enter__(self) -> FakeTarget:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "harness.load.fake_target"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.popen.stdout is not None
        ready, _, _ = select.select([self.popen.stdout], [], [], START_TIMEOUT_S)
        line = self.popen.stdout.readline().strip() if ready else ""
        if not line.isdigit():
            self.__exit__(None, None, None)
            raise BenchError(
                f"harness.load.fake_target printed no port within {START_TIMEOUT_S:.0f} s; "
                "run `python -m harness.load.fake_target` to see why"
            )
        self.host = f"http://127.0.0.1:{line}"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


@dataclass(frozen=True)
class LoadRun:
    rps: float
    requests: int
    failures: int
    cpu_s: float  # user + system time of the Locust process

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.cpu_s / self.requests if self.requests else float("nan")


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_run(host: str, args: argparse.Namespace) -> LoadRun:
    """One run of the harness's load generator against `host`; bounded, stopped for sure."""
    with tempfile.TemporaryDirectory(prefix="footprint-bench-") as tmp:
        settings = bench_load_settings(host, args, Path(tmp))
        cpu0 = children_cpu_s()
        with start_load(settings) as load:  # leaving it stops and reaps Locust
            load.wait(timeout_s=args.seconds + RUN_MARGIN_S)
        cpu = children_cpu_s() - cpu0
        stats = Path(tmp) / "locust_stats.csv"
        try:
            with open(stats, newline="") as f:
                row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
        except (OSError, StopIteration) as exc:
            raise BenchError(f"Locust wrote no Aggregated row ({exc!r})") from exc
    return LoadRun(
        rps=float(row["Requests/s"]),
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        cpu_s=cpu,
    )


def load_rounds(label: str, host: str, args: argparse.Namespace) -> list[LoadRun]:
    runs = []
    for n in range(args.rounds):
        runs.append(load_run(host, args))
        r = runs[-1]
        failed = f", {r.failures} FAILED requests" if r.failures else ""
        print(
            f"  {label} round {n + 1}: {r.rps:6.0f} req/s, "
            f"{r.cpu_us_per_request:4.0f} us CPU/request{failed}",
            flush=True,
        )
    return runs


@dataclass(frozen=True)
class Sample:
    at: float
    cpu_ns: int
    memory_mb: float  # RSS minus page cache
    usage_mb: float  # the stats API's `usage`, page cache included


def sample(client: docker.DockerClient) -> dict[str, Sample]:
    """CPU counter and memory of each container of the stack (cgroup v1 `cache`, v2 `file`):
    one non-streaming, one-shot stats call each, the whole pass within STATS_DEADLINE_S."""
    found: dict[str, Sample] = {}
    deadline = time.monotonic() + STATS_DEADLINE_S
    for c in client.containers.list(filters=labels.stack_filter(STACK)):
        if time.monotonic() > deadline:
            raise BenchError(
                f"the Docker stats API took over {STATS_DEADLINE_S:.0f} s for "
                f"{len(found)} containers of the stack"
            )
        stats = c.stats(stream=False, one_shot=True)
        memory = stats["memory_stats"]
        cache = memory.get("stats", {}).get("cache", 0) or memory.get("stats", {}).get("file", 0)
        found[c.labels.get(labels.INSTANCE, c.name)] = Sample(
            at=time.monotonic(),
            cpu_ns=int(stats["cpu_stats"]["cpu_usage"]["total_usage"]),
            memory_mb=(memory.get("usage", 0) - cache) / 2**20,
            usage_mb=memory.get("usage", 0) / 2**20,
        )
    return found


def machine_cpu_s() -> float:
    """Core-seconds the whole machine has been busy so far (/proc/stat; idle, iowait and the
    guest fields, already inside user, left out)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def engine_cpu_s() -> float:
    """CPU seconds of the container engine's long-lived processes (dockerd, containerd, the
    shims, docker-proxy) and of the children they reaped: the runc a shim runs for each
    `docker exec` (about 80 ms of the engine's CPU an exec, with dockerd's and containerd's
    share; Docker health checks were such execs, and the stack has none now) and dockerd's
    re-executions of itself (an archive put into a container)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        if text[text.index("(") + 1 : text.rindex(")")] in ENGINE:
            fields = text.rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Idle:
    memory_mb: dict[str, float]  # per container
    usage_mb: dict[str, float]  # per container, page cache included
    cores: dict[str, float]  # per container
    machine_cores: float
    engine_cores: float
    execs_per_s: float  # `docker exec`s into the stack (none of the stack's own)

    @property
    def stack_cores(self) -> float:
        """What the stack itself costs: its containers and the engine that runs them."""
        return sum(self.cores.values()) + self.engine_cores


@dataclass(frozen=True)
class Lifecycle:
    up_s: float  # warm `up` (images built) to all ready, routing included
    started_s: float  # the same `up` until every other container was ready (the entry starts)
    unscraped_cores: float  # the idle stack's CPU with Prometheus paused (no scrapes)
    killed_down_s: float  # a killed worker shown down by `harness status`
    hung_down_s: float  # a paused (hung) web replica shown down by `harness status`


def idle_stack(client: docker.DockerClient) -> Idle:
    """Memory and CPU of the idle stack, per container, and the machine's CPU meanwhile."""
    time.sleep(SETTLE_S)
    before = sample(client)
    t0, m0, e0 = time.monotonic(), machine_cpu_s(), engine_cpu_s()
    time.sleep(CPU_WINDOW_S)
    t1, m1, e1 = time.monotonic(), machine_cpu_s(), engine_cpu_s()
    execs = execs_per_s(client)
    after = sample(client)
    return Idle(
        memory_mb={name: s.memory_mb for name, s in after.items()},
        usage_mb={name: s.usage_mb for name, s in after.items()},
        cores={
            name: (s.cpu_ns - before[name].cpu_ns) / 1e9 / (s.at - before[name].at)
            for name, s in after.items()
            if name in before
        },
        machine_cores=(m1 - m0) / (t1 - t0),
        engine_cores=(e1 - e0) / (t1 - t0),
        execs_per_s=execs,
    )


def execs_per_s(client: docker.DockerClient, seconds: int = EXEC_WINDOW_S) -> float:
    """`docker exec`s started in the stack per second over the last whole seconds. Asked at
    once: the engine keeps only its last 256 events, a few seconds of this stack's."""
    until = int(time.time()) - 1  # the last whole second
    since = until - seconds + 1
    events = client.events(
        since=since, until=until + 1, decode=True, filters=labels.stack_filter(STACK)
    )
    return (
        sum(
            1
            for e in events
            if since <= int(e.get("time", 0)) <= until
            and str(e.get("Action", "")).startswith("exec_start")
        )
        / seconds
    )


def up(client: docker.DockerClient, progress: Callable[[str], None] = quiet) -> None:
    """`harness up`: bring_up, owned by this process so a killed benchmark is reaped later,
    then the WAN's latency on every link between sites (as the CLI's `up` applies it)."""
    endpoints = bring_up(client, StackConfig(name=STACK), timeout_s=UP_TIMEOUT_S,
                         progress=progress, owner=labels.run_owner())  # fmt: skip
    stack_links(endpoints).reset()


def timed_up(client: docker.DockerClient) -> tuple[float, float]:
    """Wall time of a warm `up` to all ready (every shard replicated, routed home, the WAN's
    latency applied), and to the start of the entries and the DNS server, which starts once every
    other container is ready."""
    started: list[float] = []
    t0 = time.monotonic()

    def progress(message: str) -> None:
        if message.startswith("starting chaos-"):  # the entry, once the rest is ready
            started.append(time.monotonic())

    up(client, progress)
    up_s = time.monotonic() - t0
    return up_s, (started[0] - t0 if started else float("nan"))


def unscraped_cores(client: docker.DockerClient) -> float:
    """The idle stack's CPU (containers and engine) while Prometheus is paused: what remains
    when nothing is scraped, so the difference is the 1 s scrapes' share."""
    prometheus = client.containers.get(f"chaos-{STACK}-prometheus")
    prometheus.pause()
    try:
        time.sleep(2)
        before = sample(client)
        t0, e0 = time.monotonic(), engine_cpu_s()
        time.sleep(CPU_WINDOW_S)
        t1, e1 = time.monotonic(), engine_cpu_s()
        after = sample(client)
    finally:
        prometheus.unpause()
    containers = sum(
        (s.cpu_ns - before[n].cpu_ns) / 1e9 / (s.at - before[n].at)
        for n, s in after.items()
        if n in before
    )
    return containers + (e1 - e0) / (t1 - t0)


def shown_down_after(client: docker.DockerClient, instance: str, action: str) -> float:
    """Seconds from killing (or pausing) one container to `harness status` showing it down;
    the container is restarted (or unpaused) and the stack waited for afterwards."""
    container = client.containers.get(f"chaos-{STACK}-{instance}")
    t0 = time.monotonic()
    container.kill() if action == "kill" else container.pause()
    try:
        while time.monotonic() - t0 < STATUS_DEADLINE_S:
            shown = {s.name: s for s in stack_status(client, STACK).services}
            if shown[instance].health != "healthy":
                return time.monotonic() - t0
            time.sleep(0.1)
        return float("inf")
    finally:
        container.start() if action == "kill" else container.unpause()
        wait_until_healthy(client, STACK, timeout_s=UP_TIMEOUT_S)


def lifecycle(client: docker.DockerClient) -> Lifecycle:
    """The stack's own figures after the load rounds: a second warm `up`, the scrape share,
    and how soon `status` sees a dead and a hung service."""
    tear_down(client, STACK)
    up_s, started_s = timed_up(client)
    time.sleep(SETTLE_S)
    return Lifecycle(
        up_s=up_s,
        started_s=started_s,
        unscraped_cores=unscraped_cores(client),
        killed_down_s=shown_down_after(client, "worker-us-east-1", "kill"),
        hung_down_s=shown_down_after(client, "web-us-east-1", "pause"),
    )


def quiet_machine_cores() -> float:
    """The machine's CPU with no stack and no load: the floor of every other figure."""
    t0, m0 = time.monotonic(), machine_cpu_s()
    time.sleep(CPU_WINDOW_S / 2)
    return (machine_cpu_s() - m0) / (time.monotonic() - t0)


def report_lifecycle(idle: Idle, life: Lifecycle) -> bool:
    scrapes = idle.stack_cores - life.unscraped_cores
    met = idle.stack_cores <= IDLE_CPU_TARGET
    up_met = life.up_s <= UP_TARGET_S
    print(
        f"idle stack CPU (containers + engine): {idle.stack_cores:.3f} cores"
        f"   target <= {IDLE_CPU_TARGET}: {verdict(met)}\n"
        f"  of which the 1 s Prometheus scrapes: {scrapes:.3f} (Prometheus paused: "
        f"{life.unscraped_cores:.3f} remains: the entries' and the DNS server's checks, "
        "Patroni, Redis, the engine)"
    )
    print(
        f"warm up to all ready (replicated, routed home): {life.up_s:.1f} s"
        f"   target <= {UP_TARGET_S:.0f} s: {verdict(up_met)}\n"
        f"  all but the entries and the DNS ready at {life.started_s:.1f} s; their share "
        f"{(life.up_s - life.started_s) / life.up_s:.2f}"
    )
    interval = SHOWN_DOWN_BOUND_S
    print(
        f"harness status shows a killed worker down after {life.killed_down_s:.2f} s, "
        f"a paused (hung) web replica after {life.hung_down_s:.2f} s "
        f"(bound: {interval} s; ratio to it {life.hung_down_s / interval:.3f})"
    )
    return met and up_met and max(life.killed_down_s, life.hung_down_s) <= interval


def report(idle: Idle, quiet_cores: float, base: list[LoadRun], loaded: list[LoadRun]) -> bool:
    memory, cores = idle.memory_mb, idle.cores
    total = sum(memory.values())
    print("idle stack, per container: memory (RSS minus page cache), CPU")
    for name in sorted(memory, key=lambda n: -memory[n]):
        print(f"  {name:18} {memory[name]:7.1f} MB  {cores.get(name, 0.0):6.3f} cores")
    met = total < MEMORY_TARGET_MB
    print(
        f"stack memory, idle, {len(memory)} containers (RSS minus page cache, as `docker stats` "
        f"shows it): {total:7.0f} MB   target < {MEMORY_TARGET_MB:.0f} MB: {verdict(met)}\n"
        f"  the stats API's raw usage, page cache included: {sum(idle.usage_mb.values()):7.0f} MB"
    )
    containers = sum(cores.values())
    rest = idle.machine_cores - containers - idle.engine_cores
    print(
        f"machine CPU, idle stack: {idle.machine_cores:.2f} cores of {os.cpu_count()} "
        f"(without the stack: {quiet_cores:.2f})\n"
        f"  = containers {containers:.2f} (cgroup counters)"
        f" + engine {idle.engine_cores:.2f} (dockerd, containerd, shims, docker-proxy)"
        f" + rest {rest:.2f} (runc per exec, kernel)\n"
        f"  `docker exec`s into the stack: {idle.execs_per_s:.1f}/s"
    )
    b_rps, l_rps = median([r.rps for r in base]), median([r.rps for r in loaded])
    b_cpu = median([r.cpu_us_per_request for r in base])
    l_cpu = median([r.cpu_us_per_request for r in loaded])
    print(f"load generator, no stack (baseline): {b_rps:6.0f} req/s  {b_cpu:4.0f} us CPU/request")
    print(f"load generator, idle stack up:       {l_rps:6.0f} req/s  {l_cpu:4.0f} us CPU/request")
    ratio = l_rps / b_rps
    print(
        f"ratio with stack / without: {ratio:.3f} (the share of the generator's req/s left)"
        f"   target >= {LOADGEN_SHARE_TARGET}: {verdict(ratio >= LOADGEN_SHARE_TARGET)}"
    )
    return met and ratio >= LOADGEN_SHARE_TARGET


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.users < 1 or args.seconds < 1 or args.rounds < 1:
        parser.error("--users, --seconds and --rounds must be >= 1")
    return args


def main() -> int:
    args = parse_args()
    print(machine_line(), flush=True)
    try:
        with interrupts_raise(), FakeTarget() as target:
            client = connect()
            ensure_images(client, progress=quiet)
            tear_down(client, STACK)  # a stack of ours left by a killed earlier run
            warn_about_other_stacks(client, STACK, "are running")
            quiet_cores = quiet_machine_cores()
            base = load_rounds("no stack", target.host, args)
            try:
                up(client)
                idle = idle_stack(client)
                loaded = load_rounds("idle stack", target.host, args)
                life = lifecycle(client)
            finally:
                with deferred_interrupts():
                    tear_down(client, STACK)
            base += load_rounds("no stack, after", target.host, args)
            warn_about_other_stacks(client, STACK)
    except KeyboardInterrupt:
        print(f"interrupted: stack {STACK!r}, the target and Locust removed", file=sys.stderr)
        return 130
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return 3
    except (BenchError, OSError, docker.errors.DockerException) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 3
    met = report(idle, quiet_cores, base, loaded)
    return 0 if report_lifecycle(idle, life) and met else 1


if __name__ == "__main__":
    raise SystemExit(main())
