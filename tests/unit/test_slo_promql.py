"""Every SLO shorthand expands to the PromQL the report shows (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenario.slo_model import SLO
from harness.slo.promql import expand, is_range_objective, template, window_seconds

REQ = "harness_client_requests_total"
EAST = 'region="us-east"'
# Both the web tier and the workers export the lag: the backlog is whichever reports.
BACKLOG = 'max({__name__=~"web_queue_backlog|worker_queue_backlog"})'


def slo(**objective: Any) -> SLO:
    return SLO.model_validate({"name": "s", "phase": "fault", **objective})


CASES: list[tuple[str, dict[str, Any], float, str]] = [
    (
        "error ratio",
        {"error_ratio": {"max": 0.05}},
        37.0,
        f'(sum(increase({REQ}{{result="error"}}[37s])) or vector(0)) / sum(increase({REQ}[37s]))',
    ),
    (
        "error ratio of one region",
        {"error_ratio": {"max": 0.05, "region": "us-east"}},
        37.0,
        f'(sum(increase({REQ}{{{EAST},result="error"}}[37s])) or vector(0)) '
        f"/ sum(increase({REQ}{{{EAST}}}[37s]))",
    ),
    (
        "p50",
        {"latency_p50_ms": {"max": 100}},
        60.0,
        "1000 * histogram_quantile(0.5, sum by (le) "
        "(increase(harness_client_request_seconds_bucket[60s])))",
    ),
    (
        "p95 of one region",
        {"latency_p95_ms": {"max": 300, "region": "us-west"}},
        60.0,
        "1000 * histogram_quantile(0.95, sum by (le) "
        '(increase(harness_client_request_seconds_bucket{region="us-west"}[60s])))',
    ),
    (
        "p95 of one kind of request from one region",
        {"latency_p95_ms": {"max": 300, "region": "us-east", "request": "submit_photo"}},
        60.0,
        "1000 * histogram_quantile(0.95, sum by (le) "
        "(increase(harness_client_request_seconds_bucket"
        '{region="us-east",route="/users/{id}/photos"}[60s])))',
    ),
    (
        "shard p95 of one shard",
        {"server_latency_p95_ms": {"tier": "shard", "shard": 2, "min": 20}},
        30.0,
        "1000 * histogram_quantile(0.95, sum by (le) "
        '(increase(web_db_seconds_bucket{shard="2"}[30s])))',
    ),
    (
        "time to recover of one region",
        {"time_to_recover_s": {"max": 20, "region": "us-east"}},
        30.0,
        f'(sum(rate({REQ}{{{EAST},result="error"}}[5s])) or vector(0)) '
        f"/ sum(rate({REQ}{{{EAST}}}[5s]))",
    ),
    (
        "p99",
        {"latency_p99_ms": {"max": 900}},
        60.0,
        "1000 * histogram_quantile(0.99, sum by (le) "
        "(increase(harness_client_request_seconds_bucket[60s])))",
    ),
    (
        "throughput",
        {"throughput_min_rps": {"min": 20}},
        40.0,
        f'sum(increase({REQ}{{result="ok"}}[40s])) / 40',
    ),
    (
        "throughput of one region",
        {"throughput_min_rps": {"min": 20, "region": "us-east"}},
        40.0,
        f'sum(increase({REQ}{{{EAST},result="ok"}}[40s])) / 40',
    ),
    (
        "entries' 5xx ratio (both entries' front end, `frontend entry` in entry.cfg)",
        {"server_error_ratio": {"tier": "entry", "max": 0.01}},
        30.0,
        '(sum(increase(haproxy_frontend_http_responses_total{proxy="entry",code="5xx"}[30s]))'
        " or vector(0)) "
        '/ sum(increase(haproxy_frontend_http_requests_total{proxy="entry"}[30s]))',
    ),
    (
        "web 5xx ratio",
        {"server_error_ratio": {"tier": "web", "max": 0.01}},
        30.0,
        '(sum(increase(web_requests_total{status=~"5.."}[30s])) or vector(0)) '
        "/ sum(increase(web_requests_total[30s]))",
    ),
    (
        "web p95",
        {"server_latency_p95_ms": {"tier": "web", "max": 200}},
        30.0,
        "1000 * histogram_quantile(0.95, sum by (le) (increase(web_request_seconds_bucket[30s])))",
    ),
    (
        "shard p95",
        {"server_latency_p95_ms": {"tier": "shard", "max": 50}},
        30.0,
        "1000 * histogram_quantile(0.95, sum by (le) (increase(web_db_seconds_bucket[30s])))",
    ),
    (
        "entries' latency (HAProxy average, no histogram in 2.6; a backend per region)",
        {"server_latency_p95_ms": {"tier": "entry", "max": 200}},
        30.0,
        "1000 * max(max_over_time("
        'haproxy_backend_total_time_average_seconds{proxy=~"us-east|us-west"}[30s]))',
    ),
    (
        "queue backlog",
        {"queue_backlog_max": {"max": 500}},
        45.0,
        f"max_over_time({BACKLOG}[45s:1s])",
    ),
    (
        "backlog drained: the series searched",
        {"backlog_drained_within_s": {"max": 30}},
        45.0,
        BACKLOG,
    ),
    (
        "time to recover: the error ratio series",
        {"time_to_recover_s": {"max": 20, "fault": 0, "from": "start"}},
        45.0,
        f'(sum(rate({REQ}{{result="error"}}[5s])) or vector(0)) / sum(rate({REQ}[5s]))',
    ),
    (
        "promql with $window",
        {"promql": "sum(rate(x[$window])) / sum(rate(y[$window]))", "max": 1},
        37.4,
        "sum(rate(x[37s])) / sum(rate(y[37s]))",
    ),
    ("promql without $window", {"promql": "up", "min": 1}, 12.0, "up"),
    (
        "window rounds to whole seconds",
        {"queue_backlog_max": {"max": 1}},
        29.6,
        f"max_over_time({BACKLOG}[30s:1s])",
    ),
    (
        "window is at least 1s",
        {"queue_backlog_max": {"max": 1}},
        0.2,
        f"max_over_time({BACKLOG}[1s:1s])",
    ),
]


@pytest.mark.parametrize(
    ("objective", "window", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_expand(objective: dict[str, Any], window: float, expected: str) -> None:
    assert expand(slo(**objective), window) == expected


@pytest.mark.parametrize(
    ("window", "seconds"), [(0.0, 1), (0.4, 1), (1.0, 1), (36.5, 36), (37.5, 38), (180.2, 180)]
)
def test_window_seconds(window: float, seconds: int) -> None:
    assert window_seconds(window) == seconds


def test_template_keeps_the_placeholder() -> None:
    assert template(slo(error_ratio={"max": 0.1})).count("[$window]") == 2
    assert template(slo(promql="rate(x[$window])", max=1)) == "rate(x[$window])"


@pytest.mark.parametrize(
    ("objective", "ranged"),
    [
        ({"backlog_drained_within_s": {"max": 1}}, True),
        ({"time_to_recover_s": {"max": 1}}, True),
        ({"queue_backlog_max": {"max": 1}}, False),
        ({"promql": "up", "max": 1}, False),
    ],
)
def test_range_objectives(objective: dict[str, Any], ranged: bool) -> None:
    assert is_range_objective(slo(**objective)) is ranged
