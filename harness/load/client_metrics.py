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
SUM = len(BUCKETS) + 1  # RouteCounts.latency: a count per bucket (+Inf last), then the sum


class RouteCounts:
    """The requests of one (home region, route): the counts ClientMetrics exports, kept where
    `add` updates them in place, because the locustfile calls it for every request it sends
    (hot path): one bound method, three positional arguments, no key built.

    `by_label[served label]` is [errors, oks], so the bool `ok` indexes it; `latency` holds
    the count of each bucket (not cumulative; +Inf last) and then the sum of the seconds."""

    __slots__ = ("by_label", "by_served", "latency")

    def __init__(self) -> None:
        self.by_label: dict[str, list[int]] = {}
        # What `add` reads: the same lists by the served region as the answer said it (None:
        # it said none), so no answer needs its label worked out a second time.
        self.by_served: dict[str | None, list[int]] = {}
        self.latency: list[float] = [0] * SUM + [0.0]

    def add(self, served: str | None, ok: bool, seconds: float) -> None:
        """One request answered by `served` (None: no answer said), `ok` or not, in `seconds`."""
        results = self.by_served.get(served)
        if results is None:
            results = self.by_served[served] = self.results(served or NO_SERVED_REGION)
        results[ok] += 1
        latency = self.latency
        latency[bisect_left(BUCKETS, seconds)] += 1
        latency[SUM] += seconds

    def results(self, label: str) -> list[int]:
        """[errors, oks] of the served-region `label`, made at 0 if new."""
        return self.by_label.setdefault(label, [0, 0])

    def clear(self) -> None:
        """Every count to 0, in place: `add`'s callers keep it."""
        for results in self.by_label.values():
            results[0] = results[1] = 0
        self.latency[:] = [0] * SUM + [0.0]


class ClientMetrics:
    """Accumulates requests, latencies, user counts and the users' DNS answers; a
    prometheus_client Collector (and a harness.load.resolver.ResolveObserver)."""

    def __init__(self) -> None:
        self.routes: dict[LatencyKey, RouteCounts] = {}
        self.users: dict[str, int] = {}
        self.dns_answers: dict[AnswerKey, int] = {}
        self.dns_failures: dict[str, int] = {}
        # Called at each scrape when set: the current users by region (from Locust's runner).
        self.users_source: Callable[[], Mapping[str, int]] | None = None

    @property
    def requests(self) -> dict[RequestKey, int]:
        """Every request counter there is: made at 0 (precreate), or counted into."""
        return {
            (region, label, route, result): results[result == "ok"]
            for (region, route), counts in self.routes.items()
            for label, results in counts.by_label.items()
            for result in RESULTS
        }

    @property
    def latency(self) -> dict[LatencyKey, list[int]]:
        """Per (home region, route): the count of each bucket, not cumulative, +Inf last."""
        return {key: [int(n) for n in counts.latency[:SUM]] for key, counts in self.routes.items()}

    @property
    def latency_sum(self) -> dict[LatencyKey, float]:
        return {key: counts.latency[SUM] for key, counts in self.routes.items()}

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
                counts = self.route(region, route)
                for served in (*regions, NO_SERVED_REGION):
                    counts.results(served)

    def observe(
        self, region: str, route: str, served: str | None, ok: bool, seconds: float
    ) -> None:
        """One request of a `region` user on `route`, answered by `served` (None: no
        answer said)."""
        self.route(region, route).add(served, ok, seconds)

    def route(self, region: str, route: str) -> RouteCounts:
        """The counts of (home region, route), made at 0 if new: the locustfile keeps each
        one's `add` for the requests it sends."""
        counts = self.routes.get((region, route))
        if counts is None:
            counts = self.routes[region, route] = RouteCounts()
        return counts

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
        """Everything observed since the last call, as plain lists; then start afresh (every
        count to 0 in place: the locustfile's requests keep counting into the same lists)."""
        sums = self.latency_sum
        delta = {
            "requests": [[*key, n] for key, n in self.requests.items() if n],
            "latency": [
                [*key, counts, sums[key]] for key, counts in self.latency.items() if any(counts)
            ],
            "dns_answers": [[*key, n] for key, n in self.dns_answers.items()],
            "dns_failures": [[region, n] for region, n in self.dns_failures.items()],
        }
        for counts in self.routes.values():
            counts.clear()
        self.dns_answers, self.dns_failures = {}, {}
        return delta

    def merge(self, delta: Mapping[str, Any]) -> None:
        """Add a worker's `take_delta()` to these totals."""
        for region, served, route, result, n in delta.get("requests", ()):
            self.route(region, route).results(served)[result == "ok"] += int(n)
        for region, route, counts, total in delta.get("latency", ()):
            latency = self.route(region, route).latency
            for i, n in enumerate(counts):
                latency[i] += int(n)
            latency[SUM] += float(total)
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
        sums = self.latency_sum
        for lkey, counts in sorted(self.latency.items()):
            cumulative, buckets = 0, []
            for bound, n in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            latency.add_metric(list(lkey), buckets, sum_value=sums[lkey])
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
