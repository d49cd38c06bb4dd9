"""Requests/s of the stack through us-east's entry at the knee of its latency curve, versus the
same requests sent straight to one web container: what routing and the proxies cost.

Every path ends at web-us-east-1, which reads the user from its shard through its own Toxiproxy
shard link, as in a run; the paths differ only in what sits in front of it:

    entry       127.0.1.1:<published port> -> docker-proxy -> Toxiproxy edge -> HAProxy -> web
    entry-net   the entry's address on the region's network -> HAProxy -> web
    edge        Toxiproxy's edge-us-east listener on the stack network -> web
    direct      web-us-east-1's address on the stack network (the baseline)

The web tier publishes no port and the stack spec is not changed for this: on Linux the host is
on the stack's bridge network (its gateway) and reaches the containers' addresses, which is
checked first. entry-net and edge split the cost between docker-proxy, Toxiproxy and HAProxy.

Client: closed loop, no think time, one greenlet per simulated client, each on its own
keep-alive geventhttpclient connection, GET /users/{id} over --users users created first (POST
/users through us-east's entry, X-Home-Region: us-east); the same client on every path. Each step
(a concurrency of 1, 2, 4, 8, 16, 32) runs --warmup seconds unmeasured, then --seconds
measured: requests that end inside the window count. Within a step the paths take turns in a
rotating order, so drift falls on all of them; with --rounds N the whole sweep repeats and each
step pools its N windows. Each window also reads the CPU counters of every container of the
stack (their cgroup files: instant, unlike `docker stats`, which costs the engine CPU), of this
process (the client) and of the machine (/proc/stat), to show what was saturated.

Knee: per path, the step with the most requests/s among those without errors whose p95 is below
2x that path's p95 at concurrency 1 (past it, more clients only queue). The headline is the
entry's knee req/s over the direct path's knee req/s.

    .venv/bin/python benchmarks/stack_throughput.py [--steps 1,2,4,8,16,32] [--seconds 4]
        [--warmup 1] [--rounds 1] [--users 32] [--paths entry,entry-net,edge,direct]

Starts the stack bench-throughput (owned by this process) and removes it on every way out.
Traffic goes to loopback and the stack's own containers only; every step is bounded in time
(each request by a 5 s timeout). Exit 0 measured, 3 something failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
import gevent
import requests
from _common import machine_line, warn_about_other_stacks
from docker.models.containers import Container
from geventhttpclient import HTTPClient

from harness.errors import HarnessError
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.stack import labels
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.docker_client import connect
from harness.stack.images import ensure_images
from harness.stack.lifecycle import bring_up, network_name, stack_containers
from harness.stack.teardown import tear_down

STACK = "bench-throughput"
HEADERS = {"X-Home-Region": "us-east"}
UP_TIMEOUT_S = 180.0
CONNECT_TIMEOUT_S = 2.0
REQUEST_TIMEOUT_S = 5.0
KNEE_FACTOR = 2.0
IDLE_WINDOW_S = 5.0  # the idle stack's own CPU, read before the sweep
PATHS = ("entry", "entry-net", "edge", "direct")
# The containers each path crosses before web-us-east-1's shard link.
ON_PATH = {
    "entry": ("toxiproxy", "entry-us-east", "web-us-east-1"),
    "entry-net": ("entry-us-east", "web-us-east-1"),
    "edge": ("toxiproxy", "web-us-east-1"),
    "direct": ("web-us-east-1",),
}


class BenchError(Exception):
    """The stack or a path did not answer as expected; the message says what to check."""


@dataclass
class Step:
    """One (path, client count): the windows of every round pooled."""

    path: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, answered 200
    errors: int = 0
    first_error: str = ""
    window_s: float = 0.0
    client_cpu_s: float = 0.0
    machine_cpu_s: float = 0.0  # every process of the machine, in core-seconds
    cpu_s: dict[str, float] = field(default_factory=dict)  # container -> core-seconds

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.window_s if self.window_s else 0.0

    def pct_ms(self, q: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def cores(self, cpu_s: float) -> float:
        return cpu_s / self.window_s if self.window_s else math.nan

    def busiest(self, n: int = 3) -> str:
        top = sorted(self.cpu_s, key=lambda name: -self.cpu_s[name])[:n]
        return ", ".join(f"{name} {self.cores(self.cpu_s[name]):.2f}" for name in top) or "-"


@dataclass(frozen=True)
class CpuReading:
    at: float  # time.perf_counter()
    process_s: float  # CPU seconds of this process (the client)
    machine_busy: int  # jiffies of /proc/stat's cpu line, idle and iowait excluded
    machine_total: int
    containers: dict[str, int]  # instance -> CPU nanoseconds


class CpuMeter:
    """CPU counters of the stack's containers from their cgroup files (v1 cpuacct.usage or v2
    cpu.stat, cgroupfs or systemd driver); a container without one is left out."""

    PATTERNS = (
        "/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage",
        "/sys/fs/cgroup/cpu,cpuacct/docker/{id}/cpuacct.usage",
        "/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat",
        "/sys/fs/cgroup/docker/{id}/cpu.stat",
    )

    def __init__(self, client: docker.DockerClient) -> None:
        self.files: dict[str, Path] = {}
        for c in stack_containers(client, STACK):
            found = [Path(p.format(id=c.id)) for p in self.PATTERNS]
            path = next((p for p in found if p.exists()), None)
            if path is not None:
                self.files[c.labels.get(labels.INSTANCE, c.name)] = path

    @staticmethod
    def _ns(path: Path) -> int:
        text = path.read_text()
        if path.name == "cpuacct.usage":
            return int(text)
        usage = next(line for line in text.splitlines() if line.startswith("usage_usec"))
        return 1000 * int(usage.split()[1])

    def read(self) -> CpuReading:
        # user .. steal; the guest fields are already inside user
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        idle = fields[3] + fields[4]
        return CpuReading(
            at=time.perf_counter(),
            process_s=time.process_time(),
            machine_busy=sum(fields) - idle,
            machine_total=sum(fields),
            containers={name: self._ns(path) for name, path in self.files.items()},
        )


def add_window(step: Step, before: CpuReading, after: CpuReading) -> None:
    window = after.at - before.at
    step.window_s += window
    step.client_cpu_s += after.process_s - before.process_s
    share = (after.machine_busy - before.machine_busy) / max(
        1, after.machine_total - before.machine_total
    )
    step.machine_cpu_s += share * (os.cpu_count() or 1) * window
    for name, ns in after.containers.items():
        used = (ns - before.containers.get(name, ns)) / 1e9
        step.cpu_s[name] = step.cpu_s.get(name, 0.0) + used


def container_ip(container: Container, stack: str) -> str:
    return str(container.attrs["NetworkSettings"]["Networks"][network_name(stack)]["IPAddress"])


def path_urls(client: docker.DockerClient, entry: str) -> dict[str, str]:
    by_instance = {
        c.labels.get(labels.INSTANCE, c.name): c for c in stack_containers(client, STACK)
    }
    ip = {name: container_ip(c, STACK) for name, c in by_instance.items()}
    edge = t.edge_link("us-east").listen_port
    return {
        "entry": entry,
        "entry-net": f"http://{ip['entry-us-east']}:{t.ENTRY_PORT}",
        "edge": f"http://{ip['toxiproxy']}:{edge}",
        "direct": f"http://{ip['web-us-east-1']}:{t.WEB_PORT}",
    }


def create_users(entry: str, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        resp = requests.post(f"{entry}/users", json={"name": "x"}, headers=HEADERS, timeout=5)
        if resp.status_code != 201:
            raise BenchError(f"POST {entry}/users answered {resp.status_code}: {resp.text[:200]}")
        ids.append(int(resp.json()["id"]))
    return ids


def check_paths(urls: dict[str, str], user: int) -> None:
    """Every path answers before the sweep; a host that cannot reach the stack network says so."""
    for name, url in urls.items():
        try:
            resp = requests.get(f"{url}/users/{user}", headers=HEADERS, timeout=CONNECT_TIMEOUT_S)
        except requests.RequestException as exc:
            raise BenchError(
                f"path {name} ({url}) does not answer from the host: {exc}",
                "the host cannot reach the stack network's addresses (Docker in a VM, rootless "
                "Docker?): run with --paths entry, or from a Linux host with a bridge network",
            ) from exc
        if resp.status_code != 200:
            raise BenchError(f"GET {url}/users/{user} on path {name} answered {resp.status_code}")


def client_loop(url: str, ids: list[int], offset: int, step: Step, state: dict[str, bool]) -> None:
    """One closed-loop client: a request, its answer, the next request; until told to stop."""
    http = HTTPClient.from_url(
        url,
        concurrency=1,
        connection_timeout=CONNECT_TIMEOUT_S,
        network_timeout=REQUEST_TIMEOUT_S,
    )
    k = offset
    try:
        while not state["stop"]:
            path = f"/users/{ids[k % len(ids)]}"
            k += 1
            began = time.perf_counter()
            try:
                resp = http.get(path, headers=HEADERS)
                resp.read()
                ok, why = resp.status_code == 200, f"status {resp.status_code}"
            except Exception as exc:  # counted and shown: an error is a finding here
                ok, why = False, repr(exc)
            ended = time.perf_counter()
            if state["measuring"]:
                if ok:
                    step.latencies.append(ended - began)
                else:
                    step.errors += 1
                    step.first_error = step.first_error or why
            if not ok:
                gevent.sleep(0.01)  # no hot loop on a refusing path
    finally:
        http.close()


def run_window(
    meter: CpuMeter, step: Step, url: str, ids: list[int], args: argparse.Namespace
) -> None:
    """One measured window of `step`: its clients start, warm up, are measured, stop."""
    state = {"stop": False, "measuring": False}
    n = step.concurrency
    workers = [gevent.spawn(client_loop, url, ids, i * 7, step, state) for i in range(n)]
    try:
        gevent.sleep(args.warmup)
        before = meter.read()
        state["measuring"] = True
        gevent.sleep(args.seconds)
        state["measuring"] = False
        after = meter.read()
    finally:
        state["stop"] = True
        gevent.joinall(workers, timeout=REQUEST_TIMEOUT_S + CONNECT_TIMEOUT_S + 1)
        gevent.killall(workers, timeout=2)
    add_window(step, before, after)


def sweep(
    meter: CpuMeter, urls: dict[str, str], ids: list[int], args: argparse.Namespace
) -> dict[str, list[Step]]:
    found = {path: [Step(path=path, concurrency=n) for n in args.steps] for path in urls}
    names = list(urls)
    turn = 0
    for r in range(args.rounds):
        for k, n in enumerate(args.steps):
            order = names[turn % len(names) :] + names[: turn % len(names)]
            turn += 1
            for path in order:
                step = found[path][k]
                done, errors = len(step.latencies), step.errors
                window = step.window_s
                run_window(meter, step, urls[path], ids, args)
                rps = (len(step.latencies) - done) / (step.window_s - window)
                print(
                    f"  round {r + 1} {path:10} c={n:<3} {rps:7.0f} req/s  "
                    f"errors {step.errors - errors}",
                    flush=True,
                )
    return found


def knee(steps: list[Step]) -> Step:
    """The step with the most req/s among error-free ones whose p95 < 2x the p95 at c=1."""
    limit = KNEE_FACTOR * steps[0].pct_ms(0.95)
    fine = [s for s in steps if s.errors == 0 and s.pct_ms(0.95) < limit] or steps[:1]
    return max(fine, key=lambda s: s.rps)


def report(found: dict[str, list[Step]]) -> None:
    for path, steps in found.items():
        print(f"path {path} (containers on it: {', '.join(ON_PATH[path])}):")
        print(
            f"  {'clients':>7} {'req/s':>6} {'p50 ms':>6} {'p95 ms':>6} {'p99 ms':>6} {'errors':>6}"
            f" | cores: {'machine':>7} {'stack':>5} {'client':>6} {'other':>5} | busiest containers"
        )
        for s in steps:
            stack = sum(s.cpu_s.values())
            other = s.machine_cpu_s - stack - s.client_cpu_s
            print(
                f"  {s.concurrency:7d} {s.rps:6.0f} {s.pct_ms(0.5):6.1f} {s.pct_ms(0.95):6.1f} "
                f"{s.pct_ms(0.99):6.1f} {s.errors:6d} |        {s.cores(s.machine_cpu_s):7.2f} "
                f"{s.cores(stack):5.2f} {s.cores(s.client_cpu_s):6.2f} {s.cores(other):5.2f} | "
                f"{s.busiest()}"
            )
            if s.first_error:
                print(f"          first error: {s.first_error}")
        k = knee(steps)
        print(f"  knee: {k.rps:.0f} req/s at {k.concurrency} clients, p95 {k.pct_ms(0.95):.1f} ms")
    if "entry" in found and "direct" in found:
        r, d = knee(found["entry"]), knee(found["direct"])
        r1, d1 = found["entry"][0], found["direct"][0]
        print(
            f"ratio entry / direct at the knee: {r.rps / d.rps:.2f} "
            f"({r.rps:.0f} vs {d.rps:.0f} req/s)"
        )
        print(
            f"latency at 1 client, entry / direct: p50 {r1.pct_ms(0.5) / d1.pct_ms(0.5):.2f} "
            f"({r1.pct_ms(0.5):.2f} vs {d1.pct_ms(0.5):.2f} ms), "
            f"p95 {r1.pct_ms(0.95) / d1.pct_ms(0.95):.2f}"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", default="1,2,4,8,16,32", help="client counts, ascending")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per step")
    parser.add_argument("--rounds", type=int, default=1, help="sweeps, pooled per step")
    parser.add_argument("--users", type=int, default=32, help="users created and read")
    parser.add_argument("--paths", default=",".join(PATHS))
    args = parser.parse_args()
    try:
        args.steps = [int(s) for s in args.steps.split(",")]
    except ValueError:
        parser.error("--steps takes client counts separated by commas: 1,2,4,8")
    args.paths = [p for p in args.paths.split(",") if p]
    unknown = sorted(set(args.paths) - set(PATHS))
    if unknown:
        parser.error(f"unknown path(s) {unknown}; valid: {', '.join(PATHS)}")
    if not args.steps or min(args.steps) < 1 or max(args.steps) > 256 or args.steps[0] != 1:
        parser.error("--steps must start at 1 (the knee's reference) and stay within 1..256")
    if not 0 < args.seconds <= 60 or not 0 <= args.warmup <= 30 or not 1 <= args.rounds <= 10:
        parser.error("--seconds in (0, 60], --warmup in [0, 30], --rounds in 1..10")
    if not 1 <= args.users <= 1000:
        parser.error("--users in 1..1000")
    return args


def main() -> int:
    args = parse_args()
    print(machine_line(), flush=True)
    try:
        with interrupts_raise():
            client = connect()
            ensure_images(client, progress=lambda m: None)
            tear_down(client, STACK)  # a stack of ours left by a killed earlier run
            warn_about_other_stacks(client, STACK, "are running")
            try:
                endpoints = bring_up(
                    client,
                    StackConfig(name=STACK),
                    timeout_s=UP_TIMEOUT_S,
                    progress=lambda m: print(f"... {m}", file=sys.stderr),
                    owner=labels.run_owner(),
                )
                urls = {
                    p: u
                    for p, u in path_urls(client, endpoints.entries["us-east"]).items()
                    if p in args.paths
                }
                ids = create_users(endpoints.entries["us-east"], args.users)
                check_paths(urls, ids[0])
                for path, url in urls.items():
                    print(f"path {path}: {url}")
                meter = CpuMeter(client)
                if not meter.files:
                    print("warning: no container cgroup files found: container CPU not shown")
                idle = Step(path="idle", concurrency=0)
                before = meter.read()
                time.sleep(IDLE_WINDOW_S)
                add_window(idle, before, meter.read())
                found = sweep(meter, urls, ids, args)
                warn_about_other_stacks(client, STACK)
            finally:
                with deferred_interrupts():
                    tear_down(client, STACK)
    except KeyboardInterrupt:
        print(f"interrupted: stack {STACK!r} removed", file=sys.stderr)
        return 130
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return 3
    except BenchError as exc:
        print(f"benchmark failed: {exc.args[0]}", file=sys.stderr)
        if len(exc.args) > 1:
            print(f"  hint: {exc.args[1]}", file=sys.stderr)
        return 3
    except (OSError, requests.RequestException, docker.errors.DockerException) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 3
    machine, stack = idle.cores(idle.machine_cpu_s), idle.cores(sum(idle.cpu_s.values()))
    print(
        f"idle stack, no client ({IDLE_WINDOW_S:.0f} s): machine {machine:.2f} cores of "
        f"{os.cpu_count()}, stack containers {stack:.2f}"
    )
    report(found)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
