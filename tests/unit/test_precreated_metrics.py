"""Every series an SLO's PromQL reads exists at 0 before the first request, on the client side
(harness.load.client_metrics) and the web tier's (target-stack/app/web.py): `increase()` takes a
series' first sample as its start, so errors in a label set born mid-run would count as nothing.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from harness.load import traffic as tr
from harness.load.client_metrics import NO_SERVED_REGION, ClientMetrics
from harness.load.resolver import OTHER_REGION
from harness.scenario.slo_model import SLO
from harness.slo import promql
from harness.stack.topology import REGIONS
from harness.vocabulary import ROUTE_OF_REQUEST

APP_DIR = Path(__file__).resolve().parents[2] / "target-stack" / "app"
Sample = tuple[str, frozenset[tuple[str, str]], float]


def samples(text: str) -> list[Sample]:
    return [
        (s.name, frozenset(s.labels.items()), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def selectors(query: str, metric: str) -> list[dict[str, str]]:
    """The equality matchers of every `metric{...}` selector in `query`."""
    found = []
    for body in re.findall(re.escape(metric) + r"\{([^}]*)\}", query):
        found.append(dict(re.findall(r'(\w+)="([^"]*)"', body)))
    return found


def client_exposition() -> list[Sample]:
    metrics = ClientMetrics()
    metrics.precreate(REGIONS, tr.EXPECTED_STATUS)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    return samples(generate_latest(registry).decode())


CLIENT_SLOS = [
    {"error_ratio": {"max": 0.05}},
    {"latency_p99_ms": {"max": 300}},
    {"throughput_min_rps": {"min": 1}},
]


@pytest.mark.parametrize("region", [None, *REGIONS])
@pytest.mark.parametrize("request_kind", [None, *ROUTE_OF_REQUEST])
@pytest.mark.parametrize("objective", CLIENT_SLOS)
def test_every_client_series_an_slo_reads_is_there_at_zero(
    region: str | None, request_kind: str | None, objective: dict[str, dict[str, float]]
) -> None:
    ((name, bound),) = objective.items()
    scoped = {**bound, **({"region": region} if region else {})}
    scoped |= {"request": request_kind} if request_kind else {}
    slo = SLO.model_validate({"name": "x", "phase": "run", name: scoped})
    query = promql.expand(slo, 30)
    exported = client_exposition()
    metric = promql.CLIENT_LATENCY if "latency" in name else promql.CLIENT_REQUESTS
    wanted = selectors(query, metric) or [{}]
    for matchers in wanted:
        # Each selector must match a 0 series for every serving region and either result.
        for served in (*REGIONS, NO_SERVED_REGION) if "requests" in metric else (None,):
            labels = dict(matchers) | ({"served_region": served} if served else {})
            hits = [v for n, ls, v in exported if n == metric and set(labels.items()) <= ls]
            assert hits and all(v == 0 for v in hits), (query, labels)


def test_client_precreation_covers_every_combination_and_keeps_observations() -> None:
    metrics = ClientMetrics()
    metrics.observe(region="us-east", route="/users", served="us-east", ok=True, seconds=0.01)
    metrics.precreate(REGIONS, tr.EXPECTED_STATUS)
    served = len(REGIONS) + 1
    assert len(metrics.requests) == len(REGIONS) * len(tr.EXPECTED_STATUS) * served * 2
    assert metrics.requests["us-east", "us-east", "/users", "ok"] == 1
    assert metrics.requests["us-west", NO_SERVED_REGION, "/jobs/{id}", "error"] == 0
    assert len(metrics.latency) == len(REGIONS) * len(tr.EXPECTED_STATUS)


def test_every_dns_series_is_there_at_zero_and_observations_are_kept() -> None:
    metrics = ClientMetrics()
    metrics.dns_answer(region="us-west", answered="us-east")
    metrics.precreate(REGIONS, tr.EXPECTED_STATUS)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    exported = samples(generate_latest(registry).decode())
    answers = {
        (dict(ls)["region"], dict(ls)["answered_region"]): v
        for n, ls, v in exported
        if n == "harness_client_dns_answers_total"
    }
    pairs = {(r, a) for r in REGIONS for a in (*REGIONS, OTHER_REGION)}
    assert set(answers) == pairs
    assert answers.pop(("us-west", "us-east")) == 1 and set(answers.values()) == {0}
    failures = {
        dict(ls)["region"]: v for n, ls, v in exported if n == "harness_client_dns_failures_total"
    }
    assert failures == {r: 0 for r in REGIONS}


def _load_web() -> ModuleType:
    """web.py with stand-ins for the image's aiohttp, database and queue clients (not
    installed here); prometheus_client is the real one, so its registry is what is scraped."""
    stubs = {name: mock.MagicMock() for name in ("aiohttp", "clients", "web_bugs")}
    path = [str(APP_DIR), *sys.path]
    with mock.patch.dict(sys.modules, stubs), mock.patch.object(sys, "path", path):
        spec = importlib.util.spec_from_file_location("target_stack_web", APP_DIR / "web.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def web() -> ModuleType:
    return _load_web()


@pytest.fixture(scope="module")
def web_exposition(web: ModuleType) -> list[Sample]:
    registry = CollectorRegistry(auto_describe=False)
    for metric in (web.REQUESTS, web.REQUEST_SECONDS, web.DB_SECONDS, web.DB_ERRORS):
        registry.register(metric)
    return samples(generate_latest(registry).decode())


def test_web_routes_are_the_load_generators_routes(web: ModuleType) -> None:
    assert {route: ok for _, route, ok in web.API_ROUTES} == tr.EXPECTED_STATUS


def test_web_error_statuses_exist_at_zero_before_the_first_request(
    web_exposition: list[Sample],
) -> None:
    requests = [(dict(ls), v) for n, ls, v in web_exposition if n == "web_requests_total"]
    assert requests and all(v == 0 for _, v in requests)
    # The server error ratio counts status=~"5..": each route has a 5xx series to count into.
    assert 'web_requests_total{status=~"5.."}' in promql.expand(
        SLO.model_validate(
            {"name": "x", "phase": "run", "server_error_ratio": {"max": 0.01, "tier": "web"}}
        ),
        30,
    )
    for route, ok in tr.EXPECTED_STATUS.items():
        statuses = {ls["status"] for ls, _ in requests if ls["route"] == route}
        assert {str(ok), "500", "503"} <= statuses, route
    latency = {dict(ls)["route"] for n, ls, _ in web_exposition if n == "web_request_seconds_count"}
    assert latency == set(tr.EXPECTED_STATUS)
    shards = {dict(ls)["shard"] for n, ls, _ in web_exposition if n == "web_db_seconds_count"}
    assert shards == {"0", "1", "2", "3"}
