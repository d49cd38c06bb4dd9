"""On the real stack, Prometheus holds each web tier's error series at 0 before any error
happened (target-stack/app/web.py pre-creates them), so a server_error_ratio counts the first
503 of a route instead of taking it as the series' starting value."""

from __future__ import annotations

import time

import requests

from harness.load.traffic import EXPECTED_STATUS
from harness.stack.endpoints import Endpoints
from harness.stack.topology import REGIONS


def series(prometheus: str, query: str) -> list[dict[str, str]]:
    resp = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5)
    resp.raise_for_status()
    return [r["metric"] for r in resp.json()["data"]["result"]]


def test_every_web_error_series_is_scraped_before_the_first_error(stack: Endpoints) -> None:
    query = 'web_requests_total{status=~"5.."}'
    deadline = time.monotonic() + 15  # a scrape each second; the stack may have just started
    found: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        found = series(stack.prometheus, query)
        if len(found) >= len(REGIONS) * len(EXPECTED_STATUS) * 2:
            break
        time.sleep(1)
    have = {(m["region"], m["route"], m["status"]) for m in found}
    for region in REGIONS:
        for route in EXPECTED_STATUS:
            assert {(region, route, "500"), (region, route, "503")} <= have, (region, route)
