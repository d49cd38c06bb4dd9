"""How late are faults? Delay from a fault's scheduled time to its effect being in place, and
the same for its removal, over many applications: p50 and p99 (target: p99 within 100 ms).

"In place" means the adapter call returned after Toxiproxy (or Docker) confirmed the change:
the toxic is listed / the proxy reports disabled / the container was signalled. The baseline,
measured in the same run, is the bare Toxiproxy API round trip (add + verify a toxic, no
scheduler), so the ratio shows what scheduling adds on top of the API itself.

    python benchmarks/fault_latency.py [--faults 60] [--stack bench] [--keep]
Starts the stack when it is not up (and removes it afterwards unless --keep). Loopback only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from pydantic import TypeAdapter

from harness.errors import HarnessError
from harness.faults.containers import DockerContainers
from harness.faults.effects import FaultEffects
from harness.faults.runtime import FaultContext, inject
from harness.faults.spec import fault_union
from harness.faults.toxiproxy_client import ToxiproxyClient
from harness.plan import ScheduledFault
from harness.run.scheduler import FaultScheduler
from harness.stack.config import StackConfig
from harness.stack.docker_client import connect
from harness.stack.lifecycle import bring_up
from harness.stack.status import stack_status
from harness.stack.teardown import tear_down

FAULT = TypeAdapter(fault_union())
KINDS: list[dict[str, object]] = [
    {"type": "latency", "link": "shard1-us-west", "latency_ms": 50},
    {"type": "link_down", "link": "queue-us-west"},
    {"type": "timeout", "link": "shard2-us-west", "timeout_ms": 0},
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def baseline(tox: ToxiproxyClient, n: int) -> list[float]:
    times = []
    for i in range(n):
        start = time.perf_counter()
        tox.add_toxic("shard3-us-west", name=f"base{i}", type="latency", attributes={"latency": 1})
        times.append(time.perf_counter() - start)
        tox.remove_toxic("shard3-us-west", f"base{i}")
    return times


def scheduled(tox: ToxiproxyClient, containers: DockerContainers, n: int) -> tuple[list, list]:
    faults = []
    for i in range(n):
        start, end = 0.5 + i * 0.25, 0.5 + i * 0.25 + 0.15
        spec = FAULT.validate_python({"at": start, "duration": end - start, **KINDS[i % 3]})
        faults.append(ScheduledFault(index=i, spec=spec, start_s=start, end_s=end))

    def make(f: ScheduledFault, effects: FaultEffects) -> object:
        ctx = FaultContext(links=tox, containers=containers, event=lambda k, m: None,
                           label=f"bench{f.index}", effects=effects)  # fmt: skip
        return inject(f.spec, ctx)

    sched = FaultScheduler(faults, make)  # type: ignore[arg-type]
    t0 = time.time()
    try:
        while sched.next_due() is not None:  # the orchestrator's loop, without the load
            elapsed = time.time() - t0
            sched.tick(elapsed)
            time.sleep(sched.sleep_s(elapsed, 0.2))
    finally:
        sched.heal()
    applied, removed = [], []
    for r in sched.records.values():
        if r.applied_at is None or r.removed_at is None:  # the figures would leave it out
            raise SystemExit(f"fault_latency: a fault was never applied or removed: {r}")
        applied.append(r.applied_at - (t0 + r.planned_start_s))
        removed.append(r.removed_at - (t0 + r.planned_end_s))
    return applied, removed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=60)
    parser.add_argument("--stack", default="bench")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    try:
        client = connect()
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return 3
    started = not stack_status(client, args.stack).healthy
    endpoints = bring_up(client, StackConfig(name=args.stack), timeout_s=180,
                         progress=lambda m: print(f"... {m}", file=sys.stderr))  # fmt: skip
    tox = ToxiproxyClient(endpoints.toxiproxy)
    try:
        tox.reset()
        base = baseline(tox, args.faults)
        applied, removed = scheduled(tox, DockerContainers(client, args.stack), args.faults)
        assert tox.all_clean() == [], tox.all_clean()
    finally:
        tox.reset()
        if started and not args.keep:
            tear_down(client, args.stack)
    print(f"faults: {args.faults} (latency, link_down, timeout toxics in turn)")
    for label, values in (
        ("baseline API round trip", base),
        ("scheduled -> applied", applied),
        ("scheduled -> removed", removed),
    ):
        p50, p99 = pct(values, 0.5) * 1000, pct(values, 0.99) * 1000
        print(f"{label:26} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
    ratio = statistics.median(applied) / statistics.median(base)
    print(f"ratio applied p50 / baseline p50: {ratio:.2f}")
    worst = max(pct(applied, 0.99), pct(removed, 0.99)) * 1000
    print(f"target p99 <= 100 ms: {'met' if worst <= 100 else 'NOT met'} ({worst:.1f} ms)")
    return 0 if worst <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
