from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, generate_latest

from harness.load.client_metrics import BUCKETS, ClientMetrics


def exposition(metrics: ClientMetrics) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    return generate_latest(registry).decode()


def observe_some(metrics: ClientMetrics) -> None:
    metrics.observe(region="us-east", route="/users", served="us-east", ok=True, seconds=0.004)
    metrics.observe(region="us-east", route="/users", served="us-west", ok=True, seconds=0.2)
    metrics.observe(region="us-west", route="/users/{id}", served=None, ok=False, seconds=30.0)
    metrics.dns_answer(region="us-west", answered="us-east")
    metrics.dns_answer(region="us-west", answered="us-east")
    metrics.dns_failure(region="us-east")


def test_direct_observation_is_exported():
    metrics = ClientMetrics()
    observe_some(metrics)
    metrics.set_users({"us-east": 7, "us-west": 3})
    text = exposition(metrics)
    assert (
        'harness_client_requests_total{region="us-east",result="ok",route="/users",'
        'served_region="us-west"} 1.0' in text
    )
    assert 'served_region="none"' in text and 'result="error"' in text
    assert (
        'harness_client_request_seconds_bucket{le="0.005",region="us-east",route="/users"} 1.0'
        in text
    )
    assert (
        'harness_client_request_seconds_bucket{le="+Inf",region="us-east",route="/users"} 2.0'
        in text
    )
    assert 'harness_client_request_seconds_count{region="us-west",route="/users/{id}"} 1.0' in text
    assert 'harness_client_users{region="us-east"} 7.0' in text
    assert (
        'harness_client_dns_answers_total{answered_region="us-east",region="us-west"} 2.0' in text
    )
    assert 'harness_client_dns_failures_total{region="us-east"} 1.0' in text


def test_buckets_cover_5ms_to_10s():
    assert BUCKETS[0] == 0.005 and BUCKETS[-1] == 10.0
    assert list(BUCKETS) == sorted(BUCKETS)


def test_worker_deltas_merged_on_the_master_equal_direct_observation():
    direct, worker_a, worker_b, master = (ClientMetrics() for _ in range(4))
    observe_some(direct)
    observe_some(direct)
    observe_some(worker_a)
    # Deltas cross Locust's msgpack transport: plain lists survive a JSON round trip the same way.
    master.merge(json.loads(json.dumps(worker_a.take_delta())))
    observe_some(worker_b)
    master.merge(json.loads(json.dumps(worker_b.take_delta())))
    assert master.requests == direct.requests
    assert master.latency == direct.latency
    assert master.latency_sum == direct.latency_sum
    assert master.dns_answers == direct.dns_answers == {("us-west", "us-east"): 4}
    assert master.dns_failures == direct.dns_failures == {"us-east": 2}


def test_take_delta_starts_afresh():
    worker, master = ClientMetrics(), ClientMetrics()
    observe_some(worker)
    master.merge(worker.take_delta())
    assert worker.take_delta() == {
        "requests": [],
        "latency": [],
        "dns_answers": [],
        "dns_failures": [],
    }
    master.merge(worker.take_delta())
    assert sum(master.requests.values()) == 3
    assert sum(master.dns_answers.values()) == 2 and master.dns_failures == {"us-east": 1}


def test_users_gauge_is_read_at_scrape_time():
    metrics = ClientMetrics()
    current = {"us-east": 1}
    metrics.users_source = lambda: current
    assert 'harness_client_users{region="us-east"} 1.0' in exposition(metrics)
    current = {"us-east": 14, "us-west": 6}
    assert 'harness_client_users{region="us-west"} 6.0' in exposition(metrics)


def test_a_routes_counts_count_as_observe_does_and_outlive_take_delta():
    counted, observed = ClientMetrics(), ClientMetrics()
    counts = counted.route("us-east", "/users")
    assert counted.route("us-east", "/users") is counts  # built once per (region, route)
    for served, ok, seconds in (("us-east", True, 0.004), (None, False, 30.0), ("none", False, 1)):
        counts.add(served, ok, seconds)
        observed.observe("us-east", "/users", served, ok, seconds)
    both = {
        ("us-east", "us-east", "/users", "ok"): 1,
        ("us-east", "us-east", "/users", "error"): 0,
        ("us-east", "none", "/users", "ok"): 0,
        ("us-east", "none", "/users", "error"): 2,  # no answer said, or it said `none`: one label
    }
    assert counted.requests == both and observed.requests == both
    assert counted.latency == observed.latency
    assert counted.latency["us-east", "/users"][0] == 1  # 4 ms: the first bucket
    assert counted.latency["us-east", "/users"][-1] == 1  # 30 s: +Inf
    assert counted.latency_sum == observed.latency_sum == {("us-east", "/users"): 31.004}
    # A worker's counts, made before its first report, count into the totals that follow: the
    # report sets them to 0 in place.
    delta = counted.take_delta()
    assert sorted(tuple(row[:4]) for row in delta["requests"]) == sorted(
        k for k, n in both.items() if n
    )
    counts.add("us-west", True, 0.2)
    assert {k: n for k, n in counted.requests.items() if n} == {
        ("us-east", "us-west", "/users", "ok"): 1
    }
    assert sum(counted.latency["us-east", "/users"]) == 1
    assert counted.latency_sum == {("us-east", "/users"): 0.2}
    master = ClientMetrics()
    master.merge(delta)
    master.merge(counted.take_delta())
    assert master.requests[("us-east", "none", "/users", "error")] == 2
    assert master.requests[("us-east", "us-west", "/users", "ok")] == 1
    assert sum(master.latency["us-east", "/users"]) == 4
