"""Stack lifecycle figures: cold build, warm `up` to all-healthy, `down`, and the stack's memory.

Targets (issue 2): warm up within 20 s, down within 10 s, the whole stack under 2 GB. The
baseline, measured in the same run, is one bare container (debian:bookworm-slim) created,
started and removed through the same SDK: the ratios say how many "container starts" the stack
costs, which stays meaningful on a faster or slower machine.

    python benchmarks/stack_lifecycle.py [--rounds 3] [--cold]
--cold rebuilds the project's images without Docker's layer cache first (several minutes).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import docker

from harness.stack.config import StackConfig
from harness.stack.docker_client import connect
from harness.stack.images import BASE_IMAGE, ensure_images
from harness.stack.lifecycle import bring_up
from harness.stack.spec import stack_spec
from harness.stack.teardown import tear_down

STACK = "bench-lifecycle"


def timed(fn: object, *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - start


def bare_container(client: docker.DockerClient) -> float:
    def once() -> None:
        c = client.containers.create(BASE_IMAGE, command=["sleep", "30"], labels={"bench": "1"})
        c.start()
        c.remove(force=True)

    return statistics.median(timed(once) for _ in range(5))


def stack_memory_mb(client: docker.DockerClient) -> float:
    total = 0
    for c in client.containers.list(filters={"label": f"io.chaos-harness.stack={STACK}"}):
        stats = c.stats(stream=False)["memory_stats"]
        cache = stats.get("stats", {}).get("cache", 0) or stats.get("stats", {}).get("file", 0)
        total += stats.get("usage", 0) - cache
    return total / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    client = connect()
    quiet = lambda m: None  # noqa: E731
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")  # fmt: skip
    if args.cold:
        cold = timed(ensure_images, client, progress=quiet, no_cache=True)
        print(f"cold build of the project's images (no layer cache): {cold:6.1f} s")
    ensure_images(client, progress=quiet)
    base = bare_container(client)
    config = StackConfig(name=STACK)
    ups, downs, mems = [], [], []
    for _ in range(args.rounds):
        ups.append(timed(bring_up, client, config, timeout_s=180, progress=quiet))
        time.sleep(10)  # let the stack settle under its idle load before measuring memory
        mems.append(stack_memory_mb(client))
        downs.append(timed(tear_down, client, STACK))
    up, down, mem = statistics.median(ups), statistics.median(downs), statistics.median(mems)
    n = len(stack_spec(config))
    print(f"baseline: one bare container create+start+remove      {base * 1000:6.0f} ms")
    print(
        f"warm up to all-healthy ({n} containers), median of {args.rounds}: {up:6.1f} s"
        f"  = {up / base:5.0f} x baseline   target <= 20 s: {'met' if up <= 20 else 'NOT met'}"
    )
    print(
        f"down, median of {args.rounds}:                          {down:6.1f} s"
        f"  = {down / base:5.0f} x baseline   target <= 10 s: {'met' if down <= 10 else 'NOT met'}"
    )
    print(f"stack memory (RSS minus page cache), idle:          {mem:6.0f} MB"
          f"   target < 2048 MB: {'met' if mem < 2048 else 'NOT met'}")  # fmt: skip
    return 0 if up <= 20 and down <= 10 and mem < 2048 else 1


if __name__ == "__main__":
    sys.exit(main())
