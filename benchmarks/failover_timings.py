"""Failover timings per shard over several region outages: demotion, promotion, first write.

K times (default 3): every shard's primary is put back in its place (`restore_placement`:
shard s's primary in REGIONS[s % 2]); a background prober starts, one thread per shard that
every 0.2 s writes one user to that shard as a us-west user (POST /users {"shard": s},
X-Home-Region: us-west, timeout 2 s) and records when each write was sent and answered, whether
it succeeded and which node committed it (X-Committed-By, at X-Commit-Time), and one thread
that polls every shard node's role (`shard_states`, PostgreSQL asked directly through the
nodes' published loopback ports, which no Toxiproxy link is on). After a few seconds of writes
(the baseline), us-east is cut off at t0 as `region_outage` `mode: network` cuts it: its users'
entry (edge-us-east) and every isolation link of us-east (every WAN link and its witness
link), each disabled through Toxiproxy. D seconds later (default 40) the links are enabled
again and the prober goes on until every shard is replicated again (`wait_replicated`: the
us-east nodes rejoin as standbys) and a few seconds more.

Per outage and per shard whose primary was in us-east, from t0:

- demoted: the first poll that finds the old primary no longer primary (a standby, or not
  answering): Patroni fences a primary that cannot renew its leader lock in the witness;
- promoted: the first poll that finds the shard's us-west copy primary (Patroni promotes it
  once the leader lock's `ttl` has run out since its last renewal, made every loop_wait: so
  not before about ttl - loop_wait after t0);
- first write: the first successful write sent after the cut was complete, at its answer (the
  write RTO for a us-west user), and the node that committed it;

and for every shard the longest write gap, as `write_unavailable_s` counts it (the longest
gap between acknowledged writes that ends after t0, counted from t0 at the earliest; the
harness's own function): for the shards whose primary stayed in us-west, what losing their
synchronous standby cost them. Then the median over the outages, against Patroni's ttl
(harness.stack.patroni.TTL_S), and against the baseline measured in the same run: the longest
write gap per shard in the seconds before the cut (the prober's own resolution).

    .venv/bin/python benchmarks/failover_timings.py [--outages 3] [--duration 40]
        [--wan-latency-ms 35] [--replication sync]

About up (1 minute) + K x (placement, 5 s baseline, D, rejoin, 3 s tail: about 1.5 minutes
with the defaults) + down: 5-7 minutes for 3 outages of 40 s on a 2-core machine. Starts the
stack bench-failover (owned by this process); every cut link is enabled again and the stack
removed on every way out. Traffic goes to 127.0.0.1 only. Exit 0 every outage promoted
us-west and its writes came back, 1 one did not, 3 Docker or the stack failed, 130
interrupted.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import docker
import docker.errors
import requests
from _common import machine_line, median, wait_sync_states, warn_about_other_stacks

from harness.errors import HarnessError, InfraError
from harness.faults.toxiproxy_client import ToxiproxyClient, stack_links
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.slo.objectives.write_unavailable import shard_outage
from harness.stack import labels
from harness.stack.config import REPLICATION_MODES, StackConfig
from harness.stack.docker_client import connect
from harness.stack.endpoints import Endpoints
from harness.stack.images import ensure_images
from harness.stack.lifecycle import bring_up
from harness.stack.patroni import LOOP_WAIT_S, TTL_S
from harness.stack.replication import restore_placement, shard_states, wait_replicated
from harness.stack.teardown import tear_down
from harness.stack.topology import SHARD_COUNT, edge_link, isolation_links, shard_node
from harness.vocabulary import COMMIT_TIME_HEADER, COMMITTED_BY_HEADER, HOME_HEADER

STACK = "bench-failover"
CUT_REGION, SURVIVOR = "us-east", "us-west"
UP_TIMEOUT_S = 240.0  # the two-data-centre stack: 24 containers, Patroni bootstraps
PLACE_TIMEOUT_S = 180.0  # a switchover back, or a rejoin with pg_rewind
PERIOD_S = 0.2  # the prober's cadence, per shard, and of the role polls
WRITE_TIMEOUT_S = 2.0
BASELINE_S = 5.0  # of writes before the cut
READY_TIMEOUT_S = 30.0  # for every shard to take a write before the cut
TAIL_S = 3.0  # of writes after every shard is replicated again
SYNC_STATE_TIMEOUT_S = 60.0  # for Patroni to name each standby synchronous again
PLACE_ATTEMPTS, PLACE_RETRY_S = 3, 3.0  # a switchover Patroni refused is tried again
JOIN_TIMEOUT_S = 15.0  # a prober thread ends within a write's timeout of being told to


def quiet(message: str) -> None:
    pass


class BenchError(Exception):
    """The stack did not get to the state an outage starts from; the message says what."""


@dataclass(frozen=True)
class Attempt:
    sent: float  # wall clock (time.time(): the stack's X-Commit-Time is on the same clock)
    answered: float
    ok: bool
    node: str  # X-Committed-By, or what went wrong
    committed: float | None  # X-Commit-Time

    @property
    def at(self) -> float:
        """When the write took effect: its commit, else its answer."""
        return self.committed if self.committed is not None else self.answered


@dataclass(frozen=True)
class Poll:
    at: float  # wall clock, when the poll ended
    took_s: float
    roles: dict[str, str]  # node -> primary, standby or down


@dataclass
class Prober:
    """One writer thread per shard and one role poller, until told to stop; every loop is
    bounded (a write by its timeout, a poll by libpq's connect timeout per node)."""

    endpoints: Endpoints
    attempts: dict[int, list[Attempt]] = field(
        default_factory=lambda: {s: [] for s in range(SHARD_COUNT)}
    )
    polls: list[Poll] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __enter__(self) -> Prober:
        self.threads = [
            threading.Thread(target=self._guarded, args=(self._write, s), daemon=True)
            for s in range(SHARD_COUNT)
        ]
        self.threads.append(threading.Thread(target=self._guarded, args=(self._poll,), daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=JOIN_TIMEOUT_S)

    def _guarded(self, loop: Callable[..., None], *args: int) -> None:
        try:
            loop(*args)
        except Exception as exc:  # a prober that died would read as an outage: say so
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _write(self, shard: int) -> None:
        n = 0
        with requests.Session() as session:
            while not self.stop.is_set():
                started = time.monotonic()
                sent = time.time()
                n += 1
                try:
                    answer = session.post(
                        f"{self.endpoints.entries[SURVIVOR]}/users",
                        json={"name": f"failover-probe-{shard}-{n}", "shard": shard},
                        headers={HOME_HEADER: SURVIVOR},
                        timeout=WRITE_TIMEOUT_S,
                    )
                    ok = answer.status_code == 201
                    node = answer.headers.get(COMMITTED_BY_HEADER, "") if ok else (
                        f"HTTP {answer.status_code}"
                    )  # fmt: skip
                    committed = _float(answer.headers.get(COMMIT_TIME_HEADER)) if ok else None
                except requests.RequestException as exc:
                    ok, node, committed = False, type(exc).__name__, None
                self.attempts[shard].append(Attempt(sent, time.time(), ok, node, committed))
                self.stop.wait(max(0.0, PERIOD_S - (time.monotonic() - started)))

    def _poll(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            states = shard_states(self.endpoints)
            roles = {st.node: st.role for per_shard in states.values() for st in per_shard}
            self.polls.append(Poll(time.time(), time.monotonic() - started, roles))
            self.stop.wait(max(0.0, PERIOD_S - (time.monotonic() - started)))

    def wait_all_writing(self, timeout_s: float) -> None:
        """Return once every shard has taken a write; BenchError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            missing = [s for s, a in self.attempts.items() if not any(x.ok for x in a)]
            if not missing:
                return
            if self.errors:
                raise BenchError(f"the prober failed: {self.errors[0]}")
            if time.monotonic() > deadline:
                last = {s: self.attempts[s][-1].node for s in missing if self.attempts[s]}
                raise BenchError(
                    f"shards {missing} took no write as {SURVIVOR} users within "
                    f"{timeout_s:.0f} s before the cut (last answers: {last})"
                )
            time.sleep(PERIOD_S)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class ShardTimes:
    """One shard's figures in one outage, in seconds from t0 (inf: never seen)."""

    shard: int
    primary: str  # before the cut
    demoted: float
    promoted: float
    first_write: float
    first_node: str
    longest_gap: float  # write_unavailable_s's definition
    resumed: bool  # an acknowledged write after t0 at all
    baseline_gap: float  # the longest gap between writes in the BASELINE_S before t0


@dataclass(frozen=True)
class Outage:
    n: int
    cut_s: float  # from t0 until every link was disabled
    rejoin_s: float  # from the links' return until every shard was replicated again
    resync_s: float  # ... and its standby synchronous again (sync replication)
    poll_s: float  # median duration of a role poll: the resolution of demoted/promoted
    shards: list[ShardTimes]
    prober_errors: list[str]


def first(times: list[float]) -> float:
    return min(times, default=float("inf"))


def shard_times(
    shard: int, primary: str, prober: Prober, *, t0: float, cut_done: float, until: float
) -> ShardTimes:
    survivor = shard_node(shard, SURVIVOR)
    after = [p for p in prober.polls if p.at >= t0]
    demoted = first([p.at - t0 for p in after if p.roles.get(primary) != "primary"])
    promoted = first([p.at - t0 for p in after if p.roles.get(survivor) == "primary"])
    later = [a for a in prober.attempts[shard] if a.ok and a.sent >= cut_done]
    first_ok = min(later, key=lambda a: a.answered, default=None)
    ok_times = sorted(a.at for a in prober.attempts[shard] if a.ok)
    gap = shard_outage(shard, ok_times, since=t0, until=until)
    before = [x for x in ok_times if t0 - BASELINE_S <= x <= t0]
    baseline_gap = max((b - a for a, b in itertools.pairwise(before)), default=0.0)
    return ShardTimes(
        shard=shard,
        primary=primary,
        demoted=demoted,
        promoted=promoted,
        first_write=first_ok.answered - t0 if first_ok else float("inf"),
        first_node=first_ok.node if first_ok else "none",
        longest_gap=gap.seconds,
        resumed=not gap.never_resumed,
        baseline_gap=baseline_gap,
    )


def synced(endpoints: Endpoints, primaries: dict[int, str], config: StackConfig) -> None:
    wait_sync_states(
        endpoints, primaries, synchronous=config.synchronous, timeout_s=SYNC_STATE_TIMEOUT_S
    )


def place(endpoints: Endpoints, config: StackConfig) -> None:
    """Every shard's primary back in its region. Patroni switches over only to the standby
    its /sync key names (HTTP 412 otherwise), which it writes a moment after the standby
    shows synchronous in pg_stat_replication: wait for that, and try a refused switchover
    again a few seconds later, PLACE_ATTEMPTS times in all."""
    for attempt in range(1, PLACE_ATTEMPTS + 1):
        primaries = wait_replicated(endpoints, timeout_s=PLACE_TIMEOUT_S, progress=quiet)
        synced(endpoints, primaries, config)
        try:
            restore_placement(endpoints, config, timeout_s=PLACE_TIMEOUT_S, progress=quiet)
            return
        except InfraError as exc:
            if attempt == PLACE_ATTEMPTS:
                raise
            print(f"  placement refused ({exc.message}); again in {PLACE_RETRY_S:.0f} s",
                  flush=True)  # fmt: skip
            time.sleep(PLACE_RETRY_S)


def set_links(tox: ToxiproxyClient, names: list[str], enabled: bool) -> None:
    """Every link in `names` enabled (or disabled); when enabling, each is tried even if an
    earlier one failed, and the first failure raised afterwards."""
    failed: list[HarnessError] = []
    for name in names:
        try:
            tox.set_enabled(name, enabled)
        except HarnessError as exc:
            if not enabled:
                raise
            failed.append(exc)
    if failed:
        raise failed[0]


def one_outage(
    n: int, endpoints: Endpoints, config: StackConfig, args: argparse.Namespace
) -> Outage:
    tox = stack_links(endpoints)
    tox.reset()  # every link enabled, the WAN's latency on
    place(endpoints, config)
    primaries = wait_replicated(endpoints, timeout_s=PLACE_TIMEOUT_S, progress=quiet)
    synced(endpoints, primaries, config)
    wanted = {s: shard_node(s, config.primary_region(s)) for s in range(SHARD_COUNT)}
    if primaries != wanted:
        raise BenchError(f"primaries not in their places: {primaries} (wanted {wanted})")
    cut = [edge_link(CUT_REGION).name, *(link.name for link in isolation_links(CUT_REGION))]
    with Prober(endpoints) as prober:
        prober.wait_all_writing(READY_TIMEOUT_S)
        time.sleep(BASELINE_S)
        print(f"outage {n}: cutting {CUT_REGION} off ({len(cut)} links) for {args.duration} s",
              flush=True)  # fmt: skip
        t0 = time.time()
        try:
            set_links(tox, cut, False)
            cut_done = time.time()
            time.sleep(max(0.0, args.duration - (cut_done - t0)))
        finally:
            with deferred_interrupts():
                set_links(tox, list(reversed(cut)), True)
        back = time.monotonic()
        rejoined = wait_replicated(endpoints, timeout_s=PLACE_TIMEOUT_S, progress=quiet)
        rejoin_s = time.monotonic() - back
        synced(endpoints, rejoined, config)
        resync_s = time.monotonic() - back
        time.sleep(TAIL_S)
    until = time.time()
    return Outage(
        n=n,
        cut_s=cut_done - t0,
        rejoin_s=rejoin_s,
        resync_s=resync_s,
        poll_s=median([p.took_s for p in prober.polls]),
        shards=[
            shard_times(s, primaries[s], prober, t0=t0, cut_done=cut_done, until=until)
            for s in range(SHARD_COUNT)
        ],
        prober_errors=list(prober.errors),
    )


def seconds(value: float) -> str:
    return "never" if value == float("inf") else f"{value:5.1f} s"


def cell(value: float) -> str:
    return seconds(value).strip()


def print_outage(o: Outage) -> None:
    print(
        f"outage {o.n}: links cut in {o.cut_s * 1000:.0f} ms; role polls took {o.poll_s:.2f} s "
        f"(median); after the links returned, every shard streamed again in {o.rejoin_s:.1f} s"
        f" and replicated as configured in {o.resync_s:.1f} s"
    )
    for s in o.shards:
        if s.primary.endswith(f"-{CUT_REGION}"):
            print(
                f"  shard {s.shard} (primary {s.primary}): demoted {seconds(s.demoted)}, "
                f"{SURVIVOR} promoted {seconds(s.promoted)}, first write {seconds(s.first_write)}"
                f" ({s.first_node}), longest write gap {seconds(s.longest_gap)}"
            )
        else:
            print(
                f"  shard {s.shard} (primary {s.primary}): longest write gap "
                f"{seconds(s.longest_gap)} (before the cut: {s.baseline_gap:.2f} s)"
            )
    for text in o.prober_errors:
        print(f"  the prober FAILED: {text}")


def report(outages: list[Outage]) -> bool:
    print(f"\nmedian over {len(outages)} outages of {CUT_REGION}, in seconds from the cut:")
    print(
        "| shard | primary before | demoted | promoted | first write (RTO) | longest write gap "
        "| gap before the cut (baseline) |"
    )
    print("|---|---|---|---|---|---|---|")
    ok = True
    promoted_all: list[float] = []
    for shard in range(SHARD_COUNT):
        rows = [o.shards[shard] for o in outages]
        primaries = sorted({r.primary for r in rows})
        moved = any(p.endswith(f"-{CUT_REGION}") for p in primaries)
        gap = cell(median([r.longest_gap for r in rows]))
        base = f"{median([r.baseline_gap for r in rows]):.2f} s"
        if moved:
            promoted = median([r.promoted for r in rows])
            promoted_all.append(promoted)
            print(
                f"| {shard} | {', '.join(primaries)} | {cell(median([r.demoted for r in rows]))}"
                f" | {cell(promoted)} | {cell(median([r.first_write for r in rows]))} "
                f"| {gap} | {base} |"
            )
            ok = ok and all(
                r.promoted < float("inf") and r.first_node == shard_node(shard, SURVIVOR)
                for r in rows
            )
        else:
            print(f"| {shard} | {', '.join(primaries)} | — | — | — | {gap} | {base} |")
        ok = ok and all(r.resumed for r in rows)
    if promoted_all:
        worst = max(promoted_all)
        print(
            f"\nlower bound of a promotion: Patroni's ttl {TTL_S} s after the leader's last lock "
            f"renewal, which it makes every loop_wait ({LOOP_WAIT_S} s), so about "
            f"{TTL_S - LOOP_WAIT_S}-{TTL_S} s after the cut; the slowest shard's median promotion"
            f" {seconds(worst).strip()} = {worst / TTL_S:.2f} x ttl"
        )
    ok = ok and not any(o.prober_errors for o in outages)
    if not ok:
        print("NOT every outage promoted us-west and got its writes back: see the lines above")
    return ok


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--outages", type=int, default=3)
    parser.add_argument("--duration", type=float, default=40.0, help="seconds of each outage")
    parser.add_argument("--wan-latency-ms", type=int, default=StackConfig().wan_latency_ms)
    parser.add_argument("--replication", choices=REPLICATION_MODES, default="sync")
    args = parser.parse_args()
    if not 1 <= args.outages <= 20:
        parser.error("--outages must be 1..20")
    if not 1 <= args.duration <= 600:
        parser.error("--duration must be 1..600 s")
    if not 0 <= args.wan_latency_ms <= 1000:
        parser.error("--wan-latency-ms must be 0..1000")
    if args.duration < 2 * TTL_S:
        print(f"warning: an outage under 2 x Patroni's ttl ({2 * TTL_S} s) may end before "
              "a promotion", file=sys.stderr)  # fmt: skip
    return args


def main() -> int:
    args = parse_args()
    print(machine_line(), flush=True)
    config = StackConfig(
        name=STACK, wan_latency_ms=args.wan_latency_ms, replication=args.replication
    )
    outages: list[Outage] = []
    try:
        with interrupts_raise():
            client = connect()
            ensure_images(client, progress=quiet)
            tear_down(client, STACK)  # a stack of ours left by a killed earlier run
            warn_about_other_stacks(client, STACK, "are running")
            try:
                print("bringing the stack up", flush=True)
                endpoints = bring_up(client, config, timeout_s=UP_TIMEOUT_S, progress=quiet,
                                     owner=labels.run_owner())  # fmt: skip
                for n in range(1, args.outages + 1):
                    outages.append(one_outage(n, endpoints, config, args))
                    print_outage(outages[-1])
                warn_about_other_stacks(client, STACK)
            finally:
                with deferred_interrupts():
                    tear_down(client, STACK)
    except KeyboardInterrupt:
        print(f"interrupted: links enabled again, stack {STACK!r} removed", file=sys.stderr)
        return 130
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return 3
    except (BenchError, OSError, docker.errors.DockerException) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 3
    return 0 if report(outages) else 1


if __name__ == "__main__":
    raise SystemExit(main())
