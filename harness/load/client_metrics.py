"""Client-side metrics of the load generator, exported for the stack's Prometheus.

    harness_client_requests_total{region, served_region, route, result}   counter
    harness_client_request_seconds{region, route}                         histogram
    harness_client_users{region}                                          gauge
    harness_client_dns_answers_total{region, answered_region}             counter
    harness_client_dns_failures_total{region}                             counter

The DNS counters count questions the users' resolvers asked (harness.load.resolver), not
requests: an answer once per TTL or so per user, `answered_region` the region whose entry the
answer named (`other` for any other address); a failure each time a question got no usable
answer (the user then serves its last answer, or its request fails without one).

One `ClientMetrics` per load process. In a single process it is observed directly and served.
With `--processes N`, each worker observes into its own and sends `take_delta()` to the master
(Locust's `report_to_master`); the master, which alone serves the endpoint, `merge()`s the
deltas (Locust's `worker_report`). Deltas are plain lists, so they survive Locust's msgpack
transport. No Locust import here.

The serving process `precreate()`s every series the SLOs read at 0 before the load starts:
`increase()` and `rate()` take a series' first sample as its starting point, so errors in a
label set that first appears mid-run (a region's users served by `none` during an outage)
would otherwise count as nothing, and `or vector(0)` would turn them into a clean 0.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from harness.load.resolver import OTHER_REGION

# Upper bounds in seconds, from a fast loopback answer (5 ms) to a timed-out one (10 s). Dense
# from 1 to 5 s: that is where a stall or a failover puts the p99 (a 2 s stall, measured from
# each request's intended send time), and histogram_quantile interpolates linearly inside a
# bucket: with 2.5 -> 5 s as one bucket, a p99 anywhere in it read as anything from 2.5 to 5 s.
BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0,
    5.0, 7.5, 10.0,
)  # fmt: skip
NO_SERVED_REGION = "none"
DELTA_KEY = "chaos_client_metrics"

RESULTS = ("ok", "error")

RequestKey = tuple[str, str, str, str]  # region, served_region, route, result
LatencyKey = tuple[str, str]  # region, route
AnswerKey = tuple[str, str]  # region, answered_region
Counter = Callable[[str | None, bool, float], None]  # served region, ok, seconds


class ClientMetrics:
    """Accumulates requests, latencies, user counts and the users' DNS answers; a
    prometheus_client Collector (and a harness.load.resolver.ResolveObserver)."""

    def __init__(self) -> None:
        self.requests: dict[RequestKey, int] = {}
        # Per key: counts per bucket (not cumulative; the last slot is +Inf) and the sum.
        self.latency: dict[LatencyKey, list[int]] = {}
        self.latency_sum: dict[LatencyKey, float] = {}
        self.users: dict[str, int] = {}
        self.dns_answers: dict[AnswerKey, int] = {}
        self.dns_failures: dict[str, int] = {}
        # Called at each scrape when set: the current users by region (from Locust's runner).
        self.users_source: Callable[[], Mapping[str, int]] | None = None
        self._counters: dict[LatencyKey, Counter] = {}

    def precreate(self, regions: Iterable[str], routes: Iterable[str]) -> None:
        """Every (home region, route) histogram and every (home region, served region or
        `none`, route, result) counter at 0, and the DNS counters of every (home region,
        answered region or `other`) and home region, keeping whatever was observed already."""
        regions, routes = list(regions), list(routes)
        for region in regions:
            self.dns_failures.setdefault(region, 0)
            for answered in (*regions, OTHER_REGION):
                self.dns_answers.setdefault((region, answered), 0)
            for route in routes:
                lkey = (region, route)
                self.latency.setdefault(lkey, [0] * (len(BUCKETS) + 1))
                self.latency_sum.setdefault(lkey, 0.0)
                for served in (*regions, NO_SERVED_REGION):
                    for result in RESULTS:
                        self.requests.setdefault((region, served, route, result), 0)

    def observe(
        self, region: str, route: str, served: str | None, ok: bool, seconds: float
    ) -> None:
        """One request of a `region` user on `route`, answered by `served` (None: no
        answer said)."""
        self.counter(region, route)(served, ok, seconds)

    def counter(self, region: str, route: str) -> Counter:
        """`observe` for one (home region, route), its label keys built once: what the
        locustfile calls for every request it sends (hot path), so the call takes the three
        arguments that vary, positionally, and builds no key a second time."""
        known = self._counters.get((region, route))
        if known is not None:
            return known
        lkey: LatencyKey = (region, route)
        keys: dict[str | None, tuple[RequestKey, RequestKey]] = {}  # served: its ok, error keys

        def count(served: str | None, ok: bool, seconds: float) -> None:
            pair = keys.get(served)
            if pair is None:
                name = served or NO_SERVED_REGION
                pair = keys[served] = ((region, name, route, "ok"), (region, name, route, "error"))
            key = pair[0] if ok else pair[1]
            requests = self.requests  # read at each call: take_delta() starts afresh
            requests[key] = requests.get(key, 0) + 1
            counts = self.latency.get(lkey)
            if counts is None:
                counts = self.latency[lkey] = [0] * (len(BUCKETS) + 1)
            counts[bisect_left(BUCKETS, seconds)] += 1
            sums = self.latency_sum
            sums[lkey] = sums.get(lkey, 0.0) + seconds

        self._counters[lkey] = count
        return count

    def dns_answer(self, *, region: str, answered: str) -> None:
        """A resolver of a `region` client got an answer naming `answered`'s entry."""
        key = (region, answered)
        self.dns_answers[key] = self.dns_answers.get(key, 0) + 1

    def dns_failure(self, *, region: str) -> None:
        """A resolver of a `region` client got no usable answer."""
        self.dns_failures[region] = self.dns_failures.get(region, 0) + 1

    def set_users(self, counts: Mapping[str, int]) -> None:
        self.users = dict(counts)

    def take_delta(self) -> dict[str, Any]:
        """Everything observed since the last call, as plain lists; then start afresh."""
        delta = {
            "requests": [[*key, n] for key, n in self.requests.items()],
            "latency": [
                [*key, list(counts), self.latency_sum[key]] for key, counts in self.latency.items()
            ],
            "dns_answers": [[*key, n] for key, n in self.dns_answers.items()],
            "dns_failures": [[region, n] for region, n in self.dns_failures.items()],
        }
        self.requests, self.latency, self.latency_sum = {}, {}, {}
        self.dns_answers, self.dns_failures = {}, {}
        return delta

    def merge(self, delta: Mapping[str, Any]) -> None:
        """Add a worker's `take_delta()` to these totals."""
        for region, served, route, result, n in delta.get("requests", ()):
            key = (region, served, route, result)
            self.requests[key] = self.requests.get(key, 0) + int(n)
        for region, route, counts, total in delta.get("latency", ()):
            lkey = (region, route)
            mine = self.latency.setdefault(lkey, [0] * (len(BUCKETS) + 1))
            for i, n in enumerate(counts):
                mine[i] += int(n)
            self.latency_sum[lkey] = self.latency_sum.get(lkey, 0.0) + float(total)
        for region, answered, n in delta.get("dns_answers", ()):
            akey = (region, answered)
            self.dns_answers[akey] = self.dns_answers.get(akey, 0) + int(n)
        for region, n in delta.get("dns_failures", ()):
            self.dns_failures[region] = self.dns_failures.get(region, 0) + int(n)

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "harness_client_requests",
            "Requests sent by the load generator, by home region, serving region, route, result.",
            labels=["region", "served_region", "route", "result"],
        )
        for key, n in sorted(self.requests.items()):
            requests.add_metric(list(key), n)
        yield requests
        latency = HistogramMetricFamily(
            "harness_client_request_seconds",
            "Response time seen by the load generator, by home region and route.",
            labels=["region", "route"],
        )
        for lkey, counts in sorted(self.latency.items()):
            cumulative, buckets = 0, []
            for bound, n in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            latency.add_metric(list(lkey), buckets, sum_value=self.latency_sum[lkey])
        yield latency
        if self.users_source is not None:
            self.set_users(self.users_source())
        users = GaugeMetricFamily(
            "harness_client_users", "Simulated users running, by home region.", labels=["region"]
        )
        for region, n in sorted(self.users.items()):
            users.add_metric([region], n)
        yield users
        yield from self._collect_dns()

    def _collect_dns(self) -> Iterator[Metric]:
        answers = CounterMetricFamily(
            "harness_client_dns_answers",
            "DNS answers the simulated users got, by home region and the region answered.",
            labels=["region", "answered_region"],
        )
        for key, n in sorted(self.dns_answers.items()):
            answers.add_metric(list(key), n)
        yield answers
        failures = CounterMetricFamily(
            "harness_client_dns_failures",
            "DNS questions of the simulated users without a usable answer, by home region.",
            labels=["region"],
        )
        for region, n in sorted(self.dns_failures.items()):
            failures.add_metric([region], n)
        yield failures


def serve(metrics: ClientMetrics, host: str, port: int) -> None:
    """Serve `metrics` on http://host:port/metrics (a daemon thread, or greenlet under gevent)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    start_http_server(port, addr=host, registry=registry)
