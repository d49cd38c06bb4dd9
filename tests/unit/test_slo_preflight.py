"""Every SLO's query is asked of Prometheus before the load starts: a query Prometheus refuses
is a scenario error (exit 2) naming the SLO; an unreachable Prometheus stays an infra error."""

from __future__ import annotations

import pytest

from harness.errors import EXIT_INFRA, EXIT_USAGE, HarnessError, InfraError, QueryRejected
from harness.slo.model import SLO
from harness.slo.preflight import check_queries
from harness.slo.prometheus import _reason
from harness.slo.promql import expand
from tests.fakes import FakeProm

SLOS = [
    SLO.model_validate({"name": "errors", "phase": "run", "error_ratio": {"max": 0.01}}),
    SLO.model_validate(
        {"name": "mine", "phase": "run", "promql": "rate(up[$window])[1m]", "max": 1}
    ),
]


def test_every_slo_query_is_asked_once_for_a_short_window() -> None:
    prom = FakeProm(instant=[])
    check_queries(SLOS, prom, at=100.0, source="s.yaml")
    assert [c[0] for c in prom.calls] == ["instant", "instant"]
    assert all("[10s]" in c[1] for c in prom.calls)


def test_an_slo_read_from_the_ledger_asks_prometheus_nothing() -> None:
    ledger = SLO.model_validate(
        {"name": "write RTO", "phase": "run", "write_unavailable_s": {"max": 10}}
    )
    prom = FakeProm(instant=[])
    check_queries([ledger, SLOS[0]], prom, at=100.0, source="s.yaml")
    assert [c[1] for c in prom.calls] == [expand(SLOS[0], 10.0)]


def test_a_refused_query_is_a_usage_error_naming_the_slo() -> None:
    refused = QueryRejected("refused", reason="ranges only allowed for vector selectors")
    with pytest.raises(HarnessError) as info:
        check_queries(SLOS, FakeProm(instant=refused), at=100.0, source="s.yaml")
    assert info.value.exit_code == EXIT_USAGE
    assert "s.yaml: slos[1] 'mine': ranges only allowed" in (info.value.detail or "")


def test_an_unreachable_prometheus_stays_an_infra_error() -> None:
    down = InfraError("Prometheus at http://127.0.0.1:1 failed")
    with pytest.raises(InfraError) as info:
        check_queries(SLOS, FakeProm(instant=down), at=100.0, source="s.yaml")
    assert info.value.exit_code == EXIT_INFRA


def test_prometheus_own_words_are_taken_from_the_client_exception() -> None:
    text = (
        'HTTP Status Code 400 (b\'{"status":"error","errorType":"bad_data",'
        '"error":"1:5: parse error: unexpected \\\\"}\\\\""}\')'
    )
    assert _reason(text) == '1:5: parse error: unexpected "}"'
    assert _reason("no body") == "no body"
