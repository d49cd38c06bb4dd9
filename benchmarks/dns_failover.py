"""Failover through DNS, broken down, against the DNS server's check interval + TTL; its cost.

Over several outages of us-east's entry: detection, answer change and last client moved,
against check interval + TTL (their lower bound); then what the DNS server costs: its answer
latency against a static record's, and its CPU idle and at the scenarios' query rate.

The stack is bench-dns (one worker per region), up as `harness up` leaves it (the WAN's latency
on every link between sites). K times (default 3), once both regions' users are routed home
(`wait_routed`):

- a DNS prober asks the DNS server every 0.2 s for SERVICE_NAME as a us-east user (its EDNS
  Client Subnet, `query_a`) and records which region the answer names (None: no answer);
- N simulated us-east users (default 20) each keep their own cache of the answer
  (`CachingResolver`, the load generator's: it honours the answer's TTL) and every 0.2 s send
  GET /healthz to the entry their cached answer names (Host: SERVICE_NAME, X-Home-Region:
  us-east, timeout 0.5 s), recording which region served it (X-Served-Region; None on an
  error). They start one TTL before the cut, user i at i x TTL / N, so their caches expire
  spread over the TTL after the cut, as real users' do;
- at t0 us-east's users' entry is cut: its edge link (`edge_link("us-east")`) disabled through
  Toxiproxy, which is what `region_outage` `mode: network` cuts first and what the DNS
  server's check of us-east goes through. The WAN is not cut: this measures DNS alone. D s
  later (default 30) the link is enabled again and the probing goes on for TTL + check
  interval + 5 s.

Per outage, from t0: detection (the prober's first answer that is not us-east), answer change
(its first answer naming us-west: with PowerDNS's ifurlextup the same answer, a failed check
flips it), last client moved (the latest over the users of each one's first request after t0
served by us-west; how many moved) and each user's move minus the answer change (the part the
TTL costs); and after the link returns, from that moment: answer home (the prober's first
us-east answer) and last client back (the same for requests served by us-east). Then the
median over the outages, a markdown table for BENCHMARKS.md, and the bound: a TTL-honouring
user who asked just before the answer changed keeps the old one for a TTL more, and the change
comes within one check interval of the cut, so the last user moves within check interval +
TTL (plus the prober's 0.2 s resolution and the check's 1 s timeout: judged at + 2 s).

Then, with everything healthy, the DNS server itself: the latency of N (default 1000)
sequential answers for SERVICE_NAME (the LUA record: Lua code and its checks' state) taking
turns with N for the zone's SOA with the same ECS option (a static record, no Lua): p50/p95
and the ratio LUA / static, the baseline in the same run; and the dns container's CPU (Docker
stats API, cpu_usage.total_usage over wall time, in cores) idle for 10 s (its checks, the 1 s
scrapes of its /metrics) and while answering for 10 s at the rate the scenarios cause (users /
TTL: 40 users with a 10 s TTL ask 4 times a second, plus the harness's own DNS prober's 2, one
question per region at each 1 s scrape) and at 100 x that rate, with the answers' latency at
each rate.

    .venv/bin/python benchmarks/dns_failover.py [--outages 3] [--duration 30] [--clients 20]
        [--queries 1000] [--scenario-users 40] [--ttl 10] [--check-interval 2]

About up (1 minute) + K x (routed home, TTL before the cut, D, TTL + interval + 5 s after:
about 1 minute with the defaults) + a few seconds of answers and 40 s of CPU + down: 5-6
minutes on a 2-core machine. Starts the stack bench-dns (owned by this process); the cut link
is enabled again and the stack removed on every way out. Traffic goes to loopback only (the
entries' and the DNS server's published addresses). Exit 0 every user moved within the bound
and came back, every question was answered; 1 one did not (a figure out of bounds); 3 Docker or
the stack failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import docker
import docker.errors
import requests
from _common import machine_line, median, warn_about_other_stacks
from docker.models.containers import Container

from harness.errors import HarnessError
from harness.faults.toxiproxy_client import stack_links
from harness.load.resolver import CachingResolver, ResolveError, dns_query
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.stack import labels
from harness.stack.config import StackConfig
from harness.stack.dns_query import ecs_option, query_a, region_of_address
from harness.stack.dns_zone import CHECK_TIMEOUT_S, dns_settings
from harness.stack.docker_client import connect
from harness.stack.endpoints import Endpoints
from harness.stack.health import wait_routed
from harness.stack.images import ensure_images
from harness.stack.lifecycle import bring_up, container_name
from harness.stack.teardown import tear_down
from harness.stack.topology import REGIONS, edge_link
from harness.vocabulary import HOME_HEADER, SERVED_HEADER, SERVICE_NAME

STACK = "bench-dns"
HOME, OTHER = "us-east", "us-west"  # the users measured, and where they must move to
UP_TIMEOUT_S = 240.0
ROUTED_TIMEOUT_S = 60.0  # for both regions' users to be sent home before each outage
PERIOD_S = 0.2  # the prober's and every user's cadence
HTTP_TIMEOUT_S = 0.5
PROBE_TIMEOUT_S = 0.5  # the prober's and the load's DNS questions (the server is on loopback)
ANSWER_TIMEOUT_S = 1.0  # the latency questions: a slow answer is a figure, not a failure
START_LEAD_S = 0.5  # from starting the threads to user 0's first request
TAIL_S = 5.0  # after TTL + check interval once the link is back
BOUND_MARGIN_S = 2.0  # the prober's 0.2 s resolution + the check's 1 s timeout + slack
JOIN_TIMEOUT_S = 10.0  # a thread ends within a DNS timeout + an HTTP timeout of being told to
WARMUP = 20  # questions of each kind before the latency is timed
SETTLE_S = 3.0  # after the latency run, before the idle CPU window
CPU_WINDOW_S = 10.0
LOAD_MULTIPLE = 100
LOAD_OVERRUN_S = 5.0  # a paced load that falls this far behind stops (and says so)
PROBER_QPS = float(len(REGIONS))  # the harness's DnsAnswers: one question per region per 1 s scrape
RATE_SHORTFALL = 0.9  # a load that reached less of its rate than this is flagged
HEADERS = {"Host": SERVICE_NAME, HOME_HEADER: HOME}
INF = float("inf")


def quiet(message: str) -> None:
    pass


@dataclass(frozen=True)
class Probe:
    at: float  # time.monotonic() when the question was sent
    region: str | None  # the region the answer names; None: no answer


@dataclass(frozen=True)
class Request:
    at: float  # time.monotonic() when the request was sent
    answer: str | None  # the region of the user's cached answer it went to; None: none
    served: str | None  # X-Served-Region; None: an error, or not HTTP 200
    error: str = ""


@dataclass
class Traffic:
    """The DNS prober and the simulated users, in threads, until told to stop or `until`
    (time.monotonic()), whichever is first; every loop is bounded in time and in count."""

    server: str
    port: int
    entry_port: int
    clients: int
    ttl_s: float
    until: float
    start: float = 0.0  # user 0's first request; user i's at start + i x ttl_s / clients
    probes: list[Probe] = field(default_factory=list)
    per_user: list[list[Request]] = field(default_factory=list)
    resolvers: list[CachingResolver] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __enter__(self) -> Traffic:
        self.start = time.monotonic() + START_LEAD_S
        query = dns_query(server=self.server, port=self.port, name=SERVICE_NAME)
        self.resolvers = [CachingResolver(query=query, region=HOME) for _ in range(self.clients)]
        self.per_user = [[] for _ in range(self.clients)]
        self.threads = [threading.Thread(target=self._guarded, args=(self._probe,), daemon=True)]
        self.threads += [
            threading.Thread(target=self._guarded, args=(self._user, i), daemon=True)
            for i in range(self.clients)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=JOIN_TIMEOUT_S)
        if alive := sum(thread.is_alive() for thread in self.threads):
            self.errors.append(f"{alive} thread(s) still running {JOIN_TIMEOUT_S:.0f} s after stop")

    @property
    def cut_at(self) -> float:
        """When every user has made its first request: one TTL after user 0's."""
        return self.start + self.ttl_s

    def _running(self, n: int) -> bool:
        most = (self.until - self.start) / PERIOD_S + 100
        return not self.stop.is_set() and time.monotonic() < self.until and n < most

    def _guarded(self, loop: Callable[..., None], *args: int) -> None:
        try:
            loop(*args)
        except Exception as exc:  # a thread that died would read as a user who never moved
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _probe(self) -> None:
        n = 0
        self.stop.wait(max(0.0, self.start - time.monotonic()))
        while self._running(n):
            n += 1
            sent = time.monotonic()
            try:
                answer = query_a(
                    SERVICE_NAME,
                    server=self.server,
                    port=self.port,
                    region=HOME,
                    timeout_s=PROBE_TIMEOUT_S,
                )
                region: str | None = region_of_address(answer.address)
            except ResolveError:
                region = None
            self.probes.append(Probe(sent, region))
            self.stop.wait(max(0.0, PERIOD_S - (time.monotonic() - sent)))

    def _user(self, i: int) -> None:
        resolver, record = self.resolvers[i], self.per_user[i].append
        n = 0
        self.stop.wait(max(0.0, self.start + i * self.ttl_s / self.clients - time.monotonic()))
        with requests.Session() as session:
            while self._running(n):
                n += 1
                started = time.monotonic()
                try:
                    address = resolver.address()  # the cache; a question once it expired
                except ResolveError as exc:
                    record(Request(time.monotonic(), None, None, f"DNS {exc.kind}"))
                else:
                    record(self._get(session, address))
                self.stop.wait(max(0.0, PERIOD_S - (time.monotonic() - started)))

    def _get(self, session: requests.Session, address: str) -> Request:
        sent = time.monotonic()
        answer = region_of_address(address)
        try:
            got = session.get(
                f"http://{address}:{self.entry_port}/healthz",
                headers=HEADERS,
                timeout=HTTP_TIMEOUT_S,
            )
        except requests.RequestException as exc:
            return Request(sent, answer, None, type(exc).__name__)
        served = got.headers.get(SERVED_HEADER) if got.status_code == 200 else None
        return Request(sent, answer, served, "" if served else f"HTTP {got.status_code}")


Sample = TypeVar("Sample", Probe, Request)


def first_after(
    samples: list[Sample], since: float, until: float, wanted: Callable[[Sample], bool]
) -> float:
    """Seconds from `since` to the first sample in [since, until) that is `wanted`; inf."""
    return min((s.at - since for s in samples if since <= s.at < until and wanted(s)), default=INF)


@dataclass(frozen=True)
class Outage:
    """One outage's figures, in seconds (inf: never seen)."""

    n: int
    clients: int
    cut_s: float  # from t0 until Toxiproxy had the link disabled
    detection: float  # from t0: the prober's first answer that is not us-east
    answer_change: float  # from t0: its first answer naming us-west
    moves: list[float]  # per user, from t0: its first request served by us-west
    answer_home: float  # from the link's return: the prober's first us-east answer
    backs: list[float]  # per user, from the link's return: its first request served by us-east
    home_before: int  # users whose last request before the cut us-east served
    prober_home_before: bool  # the prober's last answer before the cut named us-east
    unanswered: int  # the prober's questions without an answer, from t0 on
    errors: list[str]

    @property
    def last_moved(self) -> float:
        return max(self.moves, default=INF)

    @property
    def moved(self) -> int:
        return sum(m < INF for m in self.moves)

    @property
    def ttl_parts(self) -> list[float]:
        """Per user that moved: its move minus the answer change (what its cache cost)."""
        if self.answer_change == INF:
            return []
        return [m - self.answer_change for m in self.moves if m < INF]

    @property
    def last_back(self) -> float:
        return max(self.backs, default=INF)

    @property
    def back(self) -> int:
        return sum(b < INF for b in self.backs)


def outage_figures(
    n: int, traffic: Traffic, *, t0: float, cut_done: float, t_back: float, end: float
) -> Outage:
    probes = traffic.probes
    before = [p for p in probes if p.at < t0]
    last_before = [[r for r in reqs if r.at < t0][-1:] for reqs in traffic.per_user]
    return Outage(
        n=n,
        clients=traffic.clients,
        cut_s=cut_done - t0,
        detection=first_after(probes, t0, t_back, lambda p: p.region != HOME),
        answer_change=first_after(probes, t0, t_back, lambda p: p.region == OTHER),
        moves=[first_after(r, t0, t_back, lambda s: s.served == OTHER) for r in traffic.per_user],
        answer_home=first_after(probes, t_back, end, lambda p: p.region == HOME),
        backs=[first_after(r, t_back, end, lambda s: s.served == HOME) for r in traffic.per_user],
        home_before=sum(bool(last) and last[0].served == HOME for last in last_before),
        prober_home_before=bool(before) and before[-1].region == HOME,
        unanswered=sum(p.region is None for p in probes if p.at >= t0),
        errors=list(traffic.errors),
    )


def dns_address(endpoints: Endpoints) -> tuple[str, int]:
    host, _, port = endpoints.dns.rpartition(":")
    return host, int(port)


def one_outage(
    n: int, endpoints: Endpoints, config: StackConfig, args: argparse.Namespace
) -> Outage:
    wait_routed(endpoints, REGIONS, timeout_s=ROUTED_TIMEOUT_S, progress=quiet)
    tox = stack_links(endpoints)
    link = edge_link(HOME).name
    server, port = dns_address(endpoints)
    ttl, interval = float(config.dns_ttl_s), float(config.dns_check_interval_s)
    window = START_LEAD_S + ttl + args.duration + ttl + interval + TAIL_S
    traffic = Traffic(
        server=server,
        port=port,
        entry_port=endpoints.entry_port,
        clients=args.clients,
        ttl_s=ttl,
        until=time.monotonic() + window + 2 * JOIN_TIMEOUT_S,
    )
    with traffic:
        time.sleep(max(0.0, traffic.cut_at - time.monotonic()))
        print(f"outage {n}: {link} cut for {args.duration:g} s", flush=True)
        t0 = time.monotonic()
        try:
            tox.set_enabled(link, False)
            cut_done = time.monotonic()
            time.sleep(max(0.0, t0 + args.duration - time.monotonic()))
        finally:
            with deferred_interrupts():
                t_back = time.monotonic()
                tox.set_enabled(link, True)
        time.sleep(ttl + interval + TAIL_S)
        end = time.monotonic()
    return outage_figures(n, traffic, t0=t0, cut_done=cut_done, t_back=t_back, end=end)


def seconds(value: float) -> str:
    return "never" if value == INF else f"{value:.1f} s"


def spread(values: list[float]) -> str:
    """Median / max of the users' TTL parts."""
    if not values:
        return "—"
    return f"{median(values):.1f} / {max(values):.1f} s"


def print_outage(o: Outage, limit: float) -> None:
    print(
        f"  detection {seconds(o.detection)}, answer change ({OTHER}) "
        f"{seconds(o.answer_change)}, "
        f"{o.moved}/{o.clients} users moved, the last at {seconds(o.last_moved)} "
        f"(judged at {limit:.1f} s); move minus answer change, median / max: "
        f"{spread(o.ttl_parts)}\n"
        f"  link back: answer home at {seconds(o.answer_home)}, {o.back}/{o.clients} users back, "
        f"the last at {seconds(o.last_back)}; link cut in {o.cut_s * 1000:.0f} ms; "
        f"{o.unanswered} unanswered DNS probes from the cut on",
        flush=True,
    )
    if o.home_before < o.clients or not o.prober_home_before:
        named = HOME if o.prober_home_before else f"not {HOME}"
        print(
            f"  NOT routed home before the cut: {o.home_before}/{o.clients} users served by "
            f"{HOME} last, the prober's last answer {named}"
        )
    for text in o.errors:
        print(f"  a prober or user FAILED: {text}")


def outage_ok(o: Outage, limit: float) -> bool:
    return (
        o.moved == o.clients
        and o.last_moved <= limit
        and o.back == o.clients
        and o.last_back <= limit
        and o.home_before == o.clients
        and o.prober_home_before
        and not o.errors
    )


def report_outages(outages: list[Outage], config: StackConfig) -> bool:
    bound = config.dns_check_interval_s + config.dns_ttl_s
    limit = bound + BOUND_MARGIN_S
    row = "| {} | {} | {} | {} | {} | {} | {} | {} | {} |"
    print(
        f"\nfailover of {HOME}'s users through DNS, {len(outages)} outages of its entry, "
        "in seconds from the cut (the way back: from the link's return):"
    )
    print(
        row.format(
            "outage",
            "detection",
            "answer change",
            "last user moved",
            "users moved",
            "move - answer change (median / max)",
            "answer home",
            "last user back",
            "users back",
        )
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for o in outages:
        print(
            row.format(
                o.n,
                seconds(o.detection),
                seconds(o.answer_change),
                seconds(o.last_moved),
                f"{o.moved}/{o.clients}",
                spread(o.ttl_parts),
                seconds(o.answer_home),
                seconds(o.last_back),
                f"{o.back}/{o.clients}",
            )
        )
    every_part = [p for o in outages for p in o.ttl_parts]
    print(
        row.format(
            "median",
            seconds(median([o.detection for o in outages])),
            seconds(median([o.answer_change for o in outages])),
            seconds(median([o.last_moved for o in outages])),
            f"{min(o.moved for o in outages)}/{outages[0].clients} (fewest)",
            spread(every_part),
            seconds(median([o.answer_home for o in outages])),
            seconds(median([o.last_back for o in outages])),
            f"{min(o.back for o in outages)}/{outages[0].clients} (fewest)",
        )
    )
    worst = max(o.last_moved for o in outages)
    print(
        f"\nbound for TTL-honouring users: check interval {config.dns_check_interval_s} s + TTL "
        f"{config.dns_ttl_s} s = {bound} s (+ the prober's {PERIOD_S} s resolution and the "
        f"check's {CHECK_TIMEOUT_S} s timeout: judged at {limit:.0f} s); the slowest outage's "
        f"last user moved at {seconds(worst)}"
        + (f" = {worst / bound:.2f} x the bound" if worst < INF else "")
        + f"; the TTL part at most {seconds(max(every_part, default=INF))} against the TTL "
        f"{config.dns_ttl_s} s"
    )
    ok = all(outage_ok(o, limit) for o in outages)
    if not ok:
        print(
            f"NOT every user moved to {OTHER} and back within {limit:.0f} s in every outage "
            "(or was not home before the cut): see the lines above"
        )
    return ok


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Answers:
    lua_s: list[float]  # each answered question's wall time
    static_s: list[float]
    lua_failed: list[str]  # why each question that failed did
    static_failed: list[str]


def ask_lua(server: str, port: int) -> None:
    answer = query_a(
        SERVICE_NAME, server=server, port=port, region=HOME, timeout_s=ANSWER_TIMEOUT_S
    )
    if (region := region_of_address(answer.address)) != HOME:
        raise ResolveError(f"answered {region}, not {HOME}", kind="wrong region")


def ask_static(server: str, port: int, zone: str) -> None:
    """The zone's SOA as a us-east user asks it (same ECS option, UDP): no Lua on its way."""
    query = dns.message.make_query(zone, "SOA", use_edns=0, options=[ecs_option(HOME)])
    response = dns.query.udp(query, server, timeout=ANSWER_TIMEOUT_S, port=port)
    if response.rcode() != dns.rcode.NOERROR:
        raise ResolveError(dns.rcode.to_text(response.rcode()), kind="rcode")
    if not any(rrset.rdtype == dns.rdatatype.SOA for rrset in response.answer):
        raise ResolveError("no SOA in the answer", kind="no SOA")


def timed_ask(ask: Callable[[], None], times: list[float], failed: list[str]) -> None:
    started = time.perf_counter()
    try:
        ask()
    except ResolveError as exc:
        failed.append(exc.kind)
        return
    except (dns.exception.DNSException, OSError) as exc:
        failed.append(type(exc).__name__)
        return
    times.append(time.perf_counter() - started)


def answer_latency(endpoints: Endpoints, queries: int) -> Answers:
    """`queries` sequential questions of each kind, taking turns (which goes first alternates),
    so drift falls on both alike; WARMUP of each first, not counted."""
    server, port = dns_address(endpoints)
    zone = dns_settings().zone

    def lua() -> None:
        ask_lua(server, port)

    def static() -> None:
        ask_static(server, port, zone)

    for _ in range(WARMUP):
        timed_ask(lua, [], [])
        timed_ask(static, [], [])
    result = Answers([], [], [], [])
    for i in range(queries):
        pair = [
            (lua, result.lua_s, result.lua_failed),
            (static, result.static_s, result.static_failed),
        ]
        for ask, times, failed in pair if i % 2 == 0 else pair[::-1]:
            timed_ask(ask, times, failed)
    return result


@dataclass(frozen=True)
class Load:
    label: str
    rate: float  # questions per second asked for (0: idle)
    sent: int
    failed: int
    load_s: float  # from the first question to the last answer
    cores: float  # the dns container's CPU over the window
    latency_s: list[float] = field(default_factory=list)

    @property
    def achieved(self) -> float:
        return self.sent / self.load_s if self.load_s else 0.0


def cpu_sample(container: Container) -> tuple[float, int]:
    """(time.monotonic(), the container's cpu_usage.total_usage in ns): one one-shot,
    non-streaming stats call, timed at its middle."""
    before = time.monotonic()
    stats = container.stats(stream=False, one_shot=True)
    at = (before + time.monotonic()) / 2
    return at, int(stats["cpu_stats"]["cpu_usage"]["total_usage"])


def cores(before: tuple[float, int], after: tuple[float, int]) -> float:
    return (after[1] - before[1]) / 1e9 / (after[0] - before[0])


def paced(
    server: str, port: int, rate: float, window_s: float
) -> tuple[int, int, float, list[float]]:
    """Questions for SERVICE_NAME at `rate` per second for `window_s`, users of each region in
    turn, one after the other on a fixed schedule: (sent, failed, seconds it took, each
    answer's seconds). Stops LOAD_OVERRUN_S past the window if the schedule was not kept."""
    total = round(rate * window_s)
    start = time.monotonic()
    sent = failed = 0
    latency: list[float] = []
    while sent < total and time.monotonic() - start < window_s + LOAD_OVERRUN_S:
        due = start + sent / rate
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        began = time.perf_counter()
        try:
            query_a(
                SERVICE_NAME,
                server=server,
                port=port,
                region=REGIONS[sent % len(REGIONS)],
                timeout_s=PROBE_TIMEOUT_S,
            )
            latency.append(time.perf_counter() - began)
        except ResolveError:
            failed += 1
        sent += 1
    return sent, failed, time.monotonic() - start, latency


def dns_cpu(
    client: docker.DockerClient, endpoints: Endpoints, config: StackConfig, args: argparse.Namespace
) -> list[Load]:
    """The dns container's CPU idle, at the scenarios' rate and at LOAD_MULTIPLE x it."""
    container = client.containers.get(container_name(STACK, "dns"))
    server, port = dns_address(endpoints)
    scenario = args.scenario_users / config.dns_ttl_s + PROBER_QPS
    time.sleep(SETTLE_S)
    before = cpu_sample(container)
    time.sleep(CPU_WINDOW_S)
    after = cpu_sample(container)
    idle = Load("idle (its checks, the 1 s scrapes)", 0.0, 0, 0, 0.0, cores(before, after))
    loads = [idle]
    for label, rate in (
        (
            f"scenarios' rate: {args.scenario_users} users / {config.dns_ttl_s} s TTL "
            f"+ the harness's prober {PROBER_QPS:g}/s",
            scenario,
        ),
        (f"{LOAD_MULTIPLE} x the scenarios' rate", LOAD_MULTIPLE * scenario),
    ):
        before = cpu_sample(container)
        sent, failed, load_s, latency = paced(server, port, rate, CPU_WINDOW_S)
        after = cpu_sample(container)
        loads.append(Load(label, rate, sent, failed, load_s, cores(before, after), latency))
    return loads


def ms(value: float) -> str:
    return f"{value * 1000:.2f} ms"


def report_dns(answers: Answers, loads: list[Load]) -> bool:
    print("\nthe DNS server's answers, everything healthy (sequential, taking turns):")
    print("| question | p50 | p95 | answered | failed |")
    print("|---|---|---|---|---|")
    for label, times, failed in (
        (f"{SERVICE_NAME} A (the LUA record, checked)", answers.lua_s, answers.lua_failed),
        (
            f"{dns_settings().zone} SOA (static, the baseline)",
            answers.static_s,
            answers.static_failed,
        ),
    ):
        print(
            f"| {label} | {ms(pct(times, 0.5))} | {ms(pct(times, 0.95))} | {len(times)} "
            f"| {len(failed)} |"
        )
    p50 = pct(answers.lua_s, 0.5) / pct(answers.static_s, 0.5)
    p95 = pct(answers.lua_s, 0.95) / pct(answers.static_s, 0.95)
    print(f"| ratio LUA / static | {p50:.2f} | {p95:.2f} | | |")
    idle = loads[0].cores
    print("\nthe dns container's CPU (Docker stats API: cpu_usage.total_usage over wall time):")
    print(
        "| load | questions/s asked (reached) | CPU | CPU above idle per question "
        "| answer p50 / p95 | failed |"
    )
    print("|---|---|---|---|---|---|")
    ok = not answers.lua_failed and not answers.static_failed
    for load in loads:
        if load.rate == 0:
            print(f"| {load.label} | 0 | {load.cores:.4f} cores | — | — | — |")
            continue
        per = (load.cores - idle) / load.achieved * 1e6 if load.achieved else float("nan")
        print(
            f"| {load.label} | {load.rate:g} ({load.achieved:.1f}) | {load.cores:.4f} cores "
            f"| {per:.0f} us | {ms(pct(load.latency_s, 0.5))} / "
            f"{ms(pct(load.latency_s, 0.95))} | {load.failed} |"
        )
        if load.achieved < RATE_SHORTFALL * load.rate:
            print(
                f"warning: {load.label}: only {load.achieved:.0f} of {load.rate:g} questions/s "
                "(this process could not keep up: the machine is busy)"
            )
        ok = ok and load.failed == 0
    failures = answers.lua_failed + answers.static_failed
    if not ok:
        kinds = sorted(set(failures)) or ["see the failed column"]
        print(f"NOT every DNS question was answered as expected ({', '.join(kinds)})")
    return ok


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--outages", type=int, default=3)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of each outage")
    parser.add_argument("--clients", type=int, default=20, help="simulated us-east users")
    parser.add_argument("--queries", type=int, default=1000, help="latency questions per kind")
    parser.add_argument(
        "--scenario-users",
        type=int,
        default=40,
        help="users whose DNS questions set the scenarios' rate",
    )
    parser.add_argument(
        "--ttl",
        type=int,
        default=StackConfig().dns_ttl_s,
        help="the DNS answer's TTL, seconds (the stack setting dns_ttl_s)",
    )
    parser.add_argument(
        "--check-interval",
        type=int,
        default=StackConfig().dns_check_interval_s,
        help="seconds between the DNS server's checks (dns_check_interval_s)",
    )
    args = parser.parse_args()
    if not 1 <= args.outages <= 20:
        parser.error("--outages must be 1..20")
    if not 1 <= args.clients <= 200:
        parser.error("--clients must be 1..200")
    if not 10 <= args.queries <= 100_000:
        parser.error("--queries must be 10..100000")
    if not 1 <= args.scenario_users <= 10_000:
        parser.error("--scenario-users must be 1..10000")
    if not 1 <= args.ttl <= 300 or not 1 <= args.check_interval <= 60:
        parser.error("--ttl must be 1..300 and --check-interval 1..60")
    least = args.check_interval + args.ttl + BOUND_MARGIN_S
    if not least < args.duration <= 600:
        parser.error(
            f"--duration must be over check interval + TTL + {BOUND_MARGIN_S:g} s "
            f"({least:g} s: every user must have time to move) and at most 600 s"
        )
    return args


def main() -> int:
    args = parse_args()
    print(machine_line(), flush=True)
    config = StackConfig(
        name=STACK,
        workers_per_region=1,
        dns_ttl_s=args.ttl,
        dns_check_interval_s=args.check_interval,
    )
    limit = config.dns_check_interval_s + config.dns_ttl_s + BOUND_MARGIN_S
    outages: list[Outage] = []
    try:
        with interrupts_raise():
            client = connect()
            ensure_images(client, progress=quiet)
            tear_down(client, STACK)  # a stack of ours left by a killed earlier run
            warn_about_other_stacks(client, STACK, "are running")
            try:
                print("bringing the stack up", flush=True)
                endpoints = bring_up(
                    client, config, timeout_s=UP_TIMEOUT_S, progress=quiet, owner=labels.run_owner()
                )
                stack_links(endpoints).reset()  # the WAN's latency on, as `harness up` does
                for n in range(1, args.outages + 1):
                    outages.append(one_outage(n, endpoints, config, args))
                    print_outage(outages[-1], limit)
                wait_routed(endpoints, REGIONS, timeout_s=ROUTED_TIMEOUT_S, progress=quiet)
                print(f"timing {args.queries} + {args.queries} DNS answers", flush=True)
                answers = answer_latency(endpoints, args.queries)
                print("measuring the dns container's CPU", flush=True)
                loads = dns_cpu(client, endpoints, config, args)
                warn_about_other_stacks(client, STACK)
            finally:
                with deferred_interrupts():
                    tear_down(client, STACK)
    except KeyboardInterrupt:
        print(f"interrupted: the link enabled again, stack {STACK!r} removed", file=sys.stderr)
        return 130
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return 3
    except (OSError, docker.errors.DockerException) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 3
    ok = report_outages(outages, config)
    return 0 if report_dns(answers, loads) and ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
