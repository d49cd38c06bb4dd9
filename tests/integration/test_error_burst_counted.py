"""A burst of errors in a label set that never had an error before is counted, on the real stack
and the real Prometheus: the PromQL the SLOs use (`increase()` over the window) sees all of it.

Without the web tier's pre-created series, the first 503 of a route would create its series
with the burst's count as its first sample, and `increase()` would ignore it (a series' first
sample has nothing before it): the burst would count as next to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from harness.faults.toxiproxy_client import stack_links
from harness.stack.endpoints import Endpoints
from harness.vocabulary import HOME_HEADER, SERVED_HEADER
from tests.integration.helpers import dns_sends

BURST = 20
SHARD = 1  # only one shard link is cut: the web's /healthz stays up (a shard answering is
# enough), so the DNS server keeps sending us-east's users to us-east's entry (checked below),
# and each read of a shard-1 user there is a 503 from us-east's web tier
# Every way into the shard's nodes from us-east: its own copy, and the WAN link a read that
# its copy cannot answer falls back to (the primary in the other region).
LINKS = [f"shard{SHARD}-us-east", f"wan-shard{SHARD}-us-west"]
SELECTOR = 'web_requests_total{region="us-east",route="/users/{id}",status="503"}'


def value(prometheus: str, query: str) -> float | None:
    resp = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5)
    resp.raise_for_status()
    result = resp.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def wait_for(
    prometheus: str, query: str, ok: Callable[[float | None], bool], timeout_s: float = 20
) -> float | None:
    deadline = time.monotonic() + timeout_s
    seen = value(prometheus, query)
    while not ok(seen) and time.monotonic() < deadline:
        time.sleep(0.5)
        seen = value(prometheus, query)
    return seen


def test_a_burst_of_503s_on_a_route_that_never_failed_is_counted(stack: Endpoints) -> None:
    before = wait_for(stack.prometheus, f"sum({SELECTOR})", lambda v: v is not None)
    assert before is not None, "the web tier's 503 series is not pre-created at 0"
    toxiproxy = stack_links(stack)
    for link in LINKS:
        toxiproxy.set_enabled(link, False)
    try:
        started = time.time()
        answers = [
            requests.get(
                f"{stack.entries['us-east']}/users/{SHARD + 4 * i}",
                headers={HOME_HEADER: "us-east"},
                timeout=10,
            )
            for i in range(1, BURST + 1)
        ]
        home = dns_sends(stack, "us-east")
    finally:
        for link in LINKS:
            toxiproxy.set_enabled(link, True)
    statuses = [a.status_code for a in answers]
    assert statuses.count(503) == BURST, statuses
    assert {a.headers.get(SERVED_HEADER) for a in answers} == {"us-east"}
    assert home == "us-east"  # where us-east's users were sent meanwhile: the errors were theirs
    window = int(time.time() - started) + 15
    time.sleep(3)  # two scrapes after the last error
    counted = value(stack.prometheus, f"sum(increase({SELECTOR}[{window}s]))")
    assert counted is not None and counted >= 0.9 * BURST, (before, counted)
