"""Helpers shared by the benchmarks written after issue 7: the machine line, medians, verdicts.

Imported as `_common` (the scripts run as `python benchmarks/<name>.py`, so their folder is
first on sys.path).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence

import docker
import psycopg

from harness.errors import InfraError
from harness.stack import labels
from harness.stack.endpoints import Endpoints
from harness.stack.topology import REGIONS
from harness.vocabulary import region_of_node


def load_average() -> float:
    """The 1-minute load average: above the core count, the figures are mostly noise."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def machine_line() -> str:
    """What the figures came from, printed first so a pasted result carries it."""
    return (
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"load average {load_average():.1f}"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    """Wall seconds of `rounds` calls of `fn`, one figure per call."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def warn_about_other_stacks(
    client: docker.DockerClient, ours: str, when: str = "ran meanwhile"
) -> None:
    """Say so when harness stacks other than ours ran: they load the machine and skew every
    figure of the run."""
    found = {
        c.labels.get(labels.STACK, "")
        for c in client.containers.list(filters=labels.stack_filter())
    }
    if others := found - {ours}:
        print(f"warning: other stacks {when} ({', '.join(sorted(others))}): "
              "the figures are not clean", flush=True)  # fmt: skip


def sync_states(endpoints: Endpoints, primaries: dict[int, str]) -> dict[int, str]:
    """Per shard, how its primary replicates to its standby (pg_stat_replication.sync_state:
    "sync" or "quorum" when a commit waits for the standby, "async" when not; "none" when no
    standby streams). Asked of each primary (shard -> node) through its published port."""
    found = {}
    for shard, primary in primaries.items():
        region = region_of_node(primary)
        if region is None:
            raise InfraError(f"shard {shard}'s primary {primary!r} is in no region")
        url = endpoints.shards[shard][REGIONS.index(region)]
        try:
            with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'"
                ).fetchall()
        except psycopg.Error as exc:
            raise InfraError(f"shard {shard}'s primary {primary} did not answer: {exc}") from exc
        found[shard] = ",".join(sorted(str(r[0]) for r in rows)) or "none"
    return found


def wait_sync_states(
    endpoints: Endpoints, primaries: dict[int, str], *, synchronous: bool, timeout_s: float
) -> dict[int, str]:
    """Return once every shard's standby is synchronous (or asynchronous, as asked): Patroni
    names the synchronous standby a loop after it streams, and refuses a switchover to a
    standby that is not synchronous yet. InfraError after `timeout_s`."""
    wanted = {"sync", "quorum"} if synchronous else {"async"}
    deadline = time.monotonic() + timeout_s
    while True:
        states = sync_states(endpoints, primaries)
        wrong = {s: st for s, st in states.items() if st not in wanted}
        if not wrong:
            return states
        if time.monotonic() > deadline:
            raise InfraError(
                f"after {timeout_s:.0f} s not every shard replicates "
                f"{'synchronously' if synchronous else 'asynchronously'}: "
                + ", ".join(f"shard {s} {st}" for s, st in sorted(wrong.items()))
            )
        time.sleep(0.5)
