"""Stack lifecycle figures: cold build, warm `up` to all-healthy versus a one-by-one start,
`down`, and the stack's memory.

Targets (issues 2 and 7): warm up within 20 s and faster than the one-by-one start, down within
10 s, the whole stack under 2 GB. Two baselines, measured in the same run:

- one bare container (debian:bookworm-slim) created, started and removed through the same SDK:
  the ratios say how many "container starts" the stack costs, which stays meaningful on a
  faster or slower machine;
- the one-by-one start: the same network and containers, created as `up` creates them
  (lifecycle._create), then started in spec order, each waited for until healthy
  (health.wait_healthy on that one spec) before the next is started. It is what `up` saves by
  starting everything at once and waiting once.

Each round brings the stack up both ways, alternating which goes first, and removes it after
each (the `down` figure is the median over both). Both are owned by this process, so a later
`harness` reaps them if this one is killed; every exit path removes the stack here.

    python benchmarks/stack_lifecycle.py [--rounds 3] [--cold]
--cold rebuilds the project's images without Docker's layer cache first (several minutes).
Exit 0 every target met, 1 one missed, 3 Docker or the stack failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import docker
import docker.errors
from _common import machine_line, median, verdict, warn_about_other_stacks

from harness.errors import HarnessError
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.stack import labels
from harness.stack.config import StackConfig
from harness.stack.docker_client import connect
from harness.stack.health import wait_healthy
from harness.stack.images import BASE_IMAGE, ensure_images
from harness.stack.lifecycle import CONFIG_HASH, _create, bring_up, config_hash, network_name
from harness.stack.spec import stack_spec
from harness.stack.teardown import tear_down
from harness.stack.topology import SITES

STACK = "bench-lifecycle"
UP_TARGET_S, DOWN_TARGET_S, MEMORY_TARGET_MB = 20.0, 10.0, 2048.0
HEALTH_TIMEOUT_S = 180.0
SETTLE_S = 10.0  # the stack's idle load settles before its memory is read


def quiet(message: str) -> None:
    pass


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bare_container(client: docker.DockerClient) -> float:
    def once() -> None:
        c = client.containers.create(BASE_IMAGE, command=["sleep", "30"], labels={"bench": "1"})
        try:
            c.start()
        finally:
            c.remove(force=True)

    return median([timed(once) for _ in range(5)])


def warm_up(client: docker.DockerClient, config: StackConfig) -> None:
    """`harness up`: bring_up, owned by this process so a killed benchmark is reaped later."""
    bring_up(client, config, timeout_s=HEALTH_TIMEOUT_S, progress=quiet, owner=labels.run_owner())


def one_by_one(client: docker.DockerClient, config: StackConfig) -> None:
    """The same network and containers as `up`, started one after another, each healthy
    before the next starts."""
    # A shard's replica node waits for its leader: leaders (and everything else) first.
    specs = sorted(stack_spec(config), key=lambda s: s.env.get("BOOTSTRAP") == "replica")
    base = {
        **labels.stack_labels(config.name, labels.run_owner()),
        CONFIG_HASH: config_hash(config),
    }
    for site in SITES:
        net = network_name(config.name, site)
        client.networks.create(net, driver="bridge", labels=base, check_duplicate=True)
    created = [_create(client, config.name, spec, base) for spec in specs]
    for spec, container in zip(specs, created, strict=True):
        container.start()
        wait_healthy(client, config.name, [spec], timeout_s=HEALTH_TIMEOUT_S, progress=quiet)


def stack_memory_mb(client: docker.DockerClient) -> float:
    """RSS minus page cache of every container of the stack (cgroup v1 `cache`, v2 `file`)."""
    total = 0
    for c in client.containers.list(filters=labels.stack_filter(STACK)):
        stats = c.stats(stream=False, one_shot=True)["memory_stats"]
        cache = stats.get("stats", {}).get("cache", 0) or stats.get("stats", {}).get("file", 0)
        total += stats.get("usage", 0) - cache
    return total / 2**20


def rounds(client: docker.DockerClient, config: StackConfig, n: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"up": [], "one_by_one": [], "down": [], "memory": []}
    ways = {"up": warm_up, "one_by_one": one_by_one}
    for r in range(n):
        for way in sorted(ways, reverse=r % 2 == 1):  # alternate which goes first
            start = time.perf_counter()
            ways[way](client, config)
            found[way].append(time.perf_counter() - start)
            if way == "up":
                time.sleep(SETTLE_S)
                found["memory"].append(stack_memory_mb(client))
            found["down"].append(timed(lambda: tear_down(client, STACK)))
        print(
            f"  round {r + 1}: up {found['up'][-1]:5.1f} s, one by one "
            f"{found['one_by_one'][-1]:5.1f} s, down {found['down'][-1]:4.1f} s",
            flush=True,
        )
    return found


def report(
    base: float, image_check: float, n_containers: int, found: dict[str, list[float]]
) -> bool:
    up, serial = median(found["up"]), median(found["one_by_one"])
    down, mem = median(found["down"]), median(found["memory"])
    n = len(found["up"])
    up_ok = up <= UP_TARGET_S and up < serial
    rows = [
        ("baseline: one bare container create+start+remove", f"{base * 1000:6.0f} ms", ""),
        ("warm image check (inside up; `harness images`)", f"{image_check * 1000:6.0f} ms", ""),
        (
            f"warm up to all-healthy ({n_containers} containers), median of {n}",
            f"{up:6.1f} s",
            f"= {up / base:3.0f} x baseline",
        ),
        (
            f"one-by-one start to all-healthy, median of {n}",
            f"{serial:6.1f} s",
            f"= {serial / base:3.0f} x baseline",
        ),
        (
            "ratio up / one-by-one",
            f"{up / serial:6.2f}",
            f"target up <= {UP_TARGET_S:.0f} s and faster: {verdict(up_ok)}",
        ),
        (
            f"down, median of {len(found['down'])}",
            f"{down:6.1f} s",
            f"= {down / base:3.0f} x baseline, target <= {DOWN_TARGET_S:.0f} s: "
            f"{verdict(down <= DOWN_TARGET_S)}",
        ),
        (
            "stack memory (RSS minus page cache), idle",
            f"{mem:6.0f} MB",
            f"target < {MEMORY_TARGET_MB:.0f} MB: {verdict(mem < MEMORY_TARGET_MB)}",
        ),
    ]
    for label, value, note in rows:
        print(f"{label:52} {value:>10}  {note}")
    return up_ok and down <= DOWN_TARGET_S and mem < MEMORY_TARGET_MB


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    print(machine_line(), flush=True)
    config = StackConfig(name=STACK)
    try:
        with interrupts_raise():
            client = connect()
            try:
                if args.cold:
                    cold = timed(lambda: ensure_images(client, progress=quiet, no_cache=True))
                    print(f"cold build of the project's images (no layer cache): {cold:6.1f} s")
                ensure_images(client, progress=quiet)
                image_check = timed(lambda: ensure_images(client, progress=quiet))
                base = bare_container(client)
                tear_down(client, STACK)  # a stack of ours left by a killed earlier run
                found = rounds(client, config, args.rounds)
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
    except docker.errors.DockerException as exc:
        print(f"the Docker engine refused: {exc}", file=sys.stderr)
        return 3
    return 0 if report(base, image_check, len(stack_spec(config)), found) else 1


if __name__ == "__main__":
    sys.exit(main())
