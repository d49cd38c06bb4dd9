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

from harness.stack import labels


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
