"""The cost of RPO 0: write latency with synchronous against asynchronous replication.

Measured at the same WAN latency, through each region's entry, by where the shard's primary is.

Two stacks, one after the other (never both up): `replication: sync` (a commit returns once
the other region's standby has flushed it: no acknowledged write is lost when a region goes)
and then `replication: async` (a commit returns at once; the standby follows), both with the
same `wan_latency_ms` and the default placement (shard s's primary in REGIONS[s % 2]). On each,
with the WAN's latency applied (`stack_links(endpoints).reset()`, as `harness up` does) and
every primary in its place (`restore_placement`), for each home region and each shard: a few
warm-up writes (not counted: the web tier opens its pools), then N sequential
POST /users {"name", "shard": s} as a user of that region (X-Home-Region), taking turns over
(region, shard) so drift falls on every kind alike; then GET /users/{id} of each user written,
as the same region's user, after every write (so the home region's copy has them).

Each write is classed by the node its answer names (X-Committed-By): "local" when that node
is in the user's home region (the web tier reaches it inside the region), "remote" when it is
in the other one (the query crosses the WAN). The baseline, measured on the same stacks: the
reads, served from the home region's own copy with no WAN in the way. Printed: p50/p95 per
(replication, local or remote), the ratio sync / async, and a markdown table for
BENCHMARKS.md with the least WAN round trips each path must pay:

    sync,  local:  1 (the commit waits for the standby's flush across the WAN)
    sync,  remote: 2 (the query crosses the WAN, the commit waits for the standby back home)
    async, local:  0;   async, remote: 1 (the query)

    .venv/bin/python benchmarks/write_latency.py [--writes 40] [--warmup 3] [--wan-latency-ms 35]

About 2 x (up + 8 x (N + warmup) writes + 8 x N reads + down): 3-5 minutes with the defaults
on a 2-core machine. Starts the stack bench-wan (owned by this process) and removes it on every
way out. Traffic goes to loopback only (the entries' published addresses). Exit 0 every request
answered as expected, 1 some failed or were served or committed elsewhere than expected (the
figures are suspect), 3 Docker or the stack failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from dataclasses import dataclass, field

import docker
import docker.errors
import requests
from _common import machine_line, median, wait_sync_states, warn_about_other_stacks

from harness.errors import HarnessError
from harness.faults.toxiproxy_client import stack_links
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.stack import labels
from harness.stack.config import REPLICATION_MODES, StackConfig
from harness.stack.docker_client import connect
from harness.stack.endpoints import Endpoints
from harness.stack.images import ensure_images
from harness.stack.lifecycle import bring_up
from harness.stack.replication import restore_placement, wait_replicated
from harness.stack.teardown import tear_down
from harness.stack.topology import REGIONS, SHARD_COUNT, shard_node
from harness.vocabulary import COMMITTED_BY_HEADER, HOME_HEADER, SERVED_HEADER, region_of_node

STACK = "bench-wan"
UP_TIMEOUT_S = 240.0  # the two-data-centre stack: 24 containers, Patroni bootstraps
PLACE_TIMEOUT_S = 120.0
SYNC_STATE_TIMEOUT_S = 30.0  # Patroni names the synchronous standby within a loop or two
REQUEST_TIMEOUT_S = 10.0
KINDS = ("read", "local", "remote")
LABELS = {
    "read": "read, the home region's copy (baseline)",
    "local": "write, primary in the home region",
    "remote": "write, primary in the other region",
}
# The least WAN round trips each path pays, per replication mode (see the docstring).
FLOOR_RTTS = {
    ("sync", "read"): 0,
    ("async", "read"): 0,
    ("sync", "local"): 1,
    ("async", "local"): 0,
    ("sync", "remote"): 2,
    ("async", "remote"): 1,
}
MAX_PROBLEMS_SHOWN = 5


def quiet(message: str) -> None:
    pass


class BenchError(Exception):
    """The stack is not in the state the figures need; the message says what."""


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (as fault_latency.py computes it); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class ModeResult:
    mode: str
    primaries: dict[int, str]
    sync_states: dict[int, str]
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    failed: int = 0
    misplaced: int = 0  # committed on another node than the shard's placed primary
    elsewhere: int = 0  # served by another region than the user's home
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS_SHOWN:
            self.problems.append(text)


def post_user(
    session: requests.Session, entry: str, region: str, shard: int, name: str
) -> tuple[float, requests.Response]:
    """One POST /users as a `region` user: (milliseconds, answer). RequestException on none."""
    start = time.perf_counter()
    answer = session.post(
        f"{entry}/users",
        json={"name": name, "shard": shard},
        headers={HOME_HEADER: region},
        timeout=REQUEST_TIMEOUT_S,
    )
    return (time.perf_counter() - start) * 1000, answer


def measure_writes(
    session: requests.Session,
    endpoints: Endpoints,
    config: StackConfig,
    result: ModeResult,
    args: argparse.Namespace,
) -> dict[tuple[str, int], list[int]]:
    """The warm-up writes, then N writes per (home region, shard), taking turns; returns the
    ids written per (region, shard)."""
    pairs = [(region, shard) for region in REGIONS for shard in range(SHARD_COUNT)]
    for n in range(args.warmup):
        for region, shard in pairs:
            name = f"warmup-{config.replication}-{region}-{shard}-{n}"
            # A cold pool may fail a write; the counted writes say whether that lasts.
            with contextlib.suppress(requests.RequestException):
                post_user(session, endpoints.entries[region], region, shard, name)
    written: dict[tuple[str, int], list[int]] = {pair: [] for pair in pairs}
    for n in range(args.writes):
        for region, shard in pairs:
            name = f"wl-{config.replication}-{region}-{shard}-{n}"
            where = f"write {n + 1} to shard {shard} as a {region} user"
            try:
                ms, answer = post_user(session, endpoints.entries[region], region, shard, name)
            except requests.RequestException as exc:
                result.failed += 1
                result.problem(f"{where}: {type(exc).__name__}: {exc}")
                continue
            if answer.status_code != 201:
                result.failed += 1
                result.problem(f"{where}: HTTP {answer.status_code} {answer.text[:120]}")
                continue
            node = answer.headers.get(COMMITTED_BY_HEADER, "")
            served = answer.headers.get(SERVED_HEADER, "")
            node_region = region_of_node(node)
            if node_region is None:
                result.failed += 1
                result.problem(f"{where}: no committing node in the answer ({node!r})")
                continue
            if node != result.primaries[shard]:
                result.misplaced += 1
                result.problem(f"{where}: committed by {node}, not {result.primaries[shard]}")
            if served != region:
                result.elsewhere += 1
                result.problem(f"{where}: served by {served or 'nobody'}")
            result.latencies_ms["local" if node_region == region else "remote"].append(ms)
            written[(region, shard)].append(int(answer.json()["id"]))
    return written


def measure_reads(
    session: requests.Session,
    endpoints: Endpoints,
    result: ModeResult,
    written: dict[tuple[str, int], list[int]],
) -> None:
    """GET /users/{id} of every user written, as its writer's region, taking turns."""
    longest = max((len(ids) for ids in written.values()), default=0)
    for n in range(longest):
        for (region, _shard), ids in written.items():
            if n >= len(ids):
                continue
            where = f"read of user {ids[n]} as a {region} user"
            start = time.perf_counter()
            try:
                answer = session.get(
                    f"{endpoints.entries[region]}/users/{ids[n]}",
                    headers={HOME_HEADER: region},
                    timeout=REQUEST_TIMEOUT_S,
                )
            except requests.RequestException as exc:
                result.failed += 1
                result.problem(f"{where}: {type(exc).__name__}: {exc}")
                continue
            ms = (time.perf_counter() - start) * 1000
            if answer.status_code != 200:
                result.failed += 1
                result.problem(f"{where}: HTTP {answer.status_code} {answer.text[:120]}")
                continue
            if answer.headers.get(SERVED_HEADER, "") != region:
                result.elsewhere += 1
                result.problem(f"{where}: served by {answer.headers.get(SERVED_HEADER)}")
            result.latencies_ms["read"].append(ms)


def one_mode(client: docker.DockerClient, mode: str, args: argparse.Namespace) -> ModeResult:
    """Bring up the stack with replication `mode`, measure, remove it."""
    config = StackConfig(name=STACK, wan_latency_ms=args.wan_latency_ms, replication=mode)
    print(f"replication {mode}: bringing the stack up", flush=True)
    try:
        endpoints = bring_up(client, config, timeout_s=UP_TIMEOUT_S, progress=quiet,
                             owner=labels.run_owner())  # fmt: skip
        stack_links(endpoints).reset()  # the WAN's latency on every link between sites
        restore_placement(endpoints, config, timeout_s=PLACE_TIMEOUT_S, progress=quiet)
        primaries = wait_replicated(endpoints, timeout_s=PLACE_TIMEOUT_S, progress=quiet)
        wanted = {s: shard_node(s, config.primary_region(s)) for s in range(SHARD_COUNT)}
        if primaries != wanted:
            raise BenchError(f"primaries not in their places: {primaries} (wanted {wanted})")
        states = wait_sync_states(
            endpoints, primaries, synchronous=config.synchronous, timeout_s=SYNC_STATE_TIMEOUT_S
        )
        result = ModeResult(mode=mode, primaries=primaries, sync_states=states)
        with requests.Session() as session:
            written = measure_writes(session, endpoints, config, result, args)
            measure_reads(session, endpoints, result, written)
        warn_about_other_stacks(client, STACK)
    finally:
        with deferred_interrupts():
            tear_down(client, STACK)
    return result


def figure(values: list[float]) -> str:
    return f"{pct(values, 0.5):6.1f} / {pct(values, 0.95):6.1f} ms"


def report(results: dict[str, ModeResult], wan_latency_ms: int) -> bool:
    rtt = 2 * wan_latency_ms
    print(f"WAN latency {wan_latency_ms} ms one way (a round trip {rtt} ms)")
    for mode, r in results.items():
        placed = ", ".join(f"shard {s} {p} ({r.sync_states[s]})" for s, p in r.primaries.items())
        print(f"replication {mode}: primaries {placed}")
        for kind in KINDS:
            values = r.latencies_ms[kind]
            floor = FLOOR_RTTS[(mode, kind)] * rtt
            print(
                f"  {LABELS[kind]:40} n={len(values):4}  p50 / p95 {figure(values)}"
                f"  (at least {floor} ms of WAN)"
            )
        if r.failed or r.misplaced or r.elsewhere:
            print(
                f"  {r.failed} requests FAILED, {r.misplaced} writes committed off the placed "
                f"primary, {r.elsewhere} answers from the other region:"
            )
            for text in r.problems:
                print(f"    {text}")
    sync, other = results.get("sync"), results.get("async")
    if sync is not None and other is not None:
        print("ratio sync / async:")
        for kind in KINDS:
            s, a = sync.latencies_ms[kind], other.latencies_ms[kind]
            print(
                f"  {LABELS[kind]:40} p50 {pct(s, 0.5) / pct(a, 0.5):5.2f}"
                f"  p95 {pct(s, 0.95) / pct(a, 0.95):5.2f}"
            )
        print()
        print(
            f"| request (WAN {wan_latency_ms} ms one way) | sync p50 / p95 | async p50 / p95 "
            "| sync / async, p50 and p95 | WAN round trips at least, sync / async |"
        )
        print("|---|---|---|---|---|")
        for kind in KINDS:
            s, a = sync.latencies_ms[kind], other.latencies_ms[kind]
            print(
                f"| {LABELS[kind]} | {pct(s, 0.5):.1f} / {pct(s, 0.95):.1f} ms "
                f"| {pct(a, 0.5):.1f} / {pct(a, 0.95):.1f} ms "
                f"| {pct(s, 0.5) / pct(a, 0.5):.2f}, {pct(s, 0.95) / pct(a, 0.95):.2f} "
                f"| {FLOOR_RTTS[('sync', kind)]} / {FLOOR_RTTS[('async', kind)]} |"
            )
        local = median(sync.latencies_ms["local"]) - median(other.latencies_ms["local"])
        print(f"\nwhat RPO 0 costs a local write, p50: {local:.1f} ms (a WAN round trip: {rtt} ms)")
    return all(not (r.failed or r.misplaced or r.elsewhere) for r in results.values())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--writes", type=int, default=40, help="per home region and shard")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted writes, ditto")
    parser.add_argument("--wan-latency-ms", type=int, default=StackConfig().wan_latency_ms)
    parser.add_argument(
        "--modes", nargs="+", choices=REPLICATION_MODES, default=list(REPLICATION_MODES),
        help="replication modes, measured in this order (default: sync async)",
    )  # fmt: skip
    args = parser.parse_args()
    if not 1 <= args.writes <= 1000 or not 0 <= args.warmup <= 100:
        parser.error("--writes must be 1..1000 and --warmup 0..100")
    if not 0 <= args.wan_latency_ms <= 1000:
        parser.error("--wan-latency-ms must be 0..1000")
    return args


def main() -> int:
    args = parse_args()
    print(machine_line(), flush=True)
    results: dict[str, ModeResult] = {}
    try:
        with interrupts_raise():
            client = connect()
            ensure_images(client, progress=quiet)
            tear_down(client, STACK)  # a stack of ours left by a killed earlier run
            warn_about_other_stacks(client, STACK, "are running")
            for mode in dict.fromkeys(args.modes):
                results[mode] = one_mode(client, mode, args)
    except KeyboardInterrupt:
        print(f"interrupted: stack {STACK!r} removed", file=sys.stderr)
        return 130
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return 3
    except (BenchError, OSError, docker.errors.DockerException) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 3
    return 0 if report(results, args.wan_latency_ms) else 1


if __name__ == "__main__":
    raise SystemExit(main())
