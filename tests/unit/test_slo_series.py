"""Chart series: legends from the templates; a failing or empty chart is just empty."""

from __future__ import annotations

import pytest

from harness.errors import InfraError
from harness.record import Series
from harness.slo.charts import CHARTS, ChartDef
from harness.slo.series import collect_series, legend
from tests.fakes import FakeProm


@pytest.mark.parametrize(
    ("template", "labels", "expected"),
    [
        ("{region}", {"region": "us-east"}, "us-east"),
        ("served by {served_region}", {"served_region": "us-west"}, "served by us-west"),
        (
            "{fault} {target}",
            {"fault": "region_outage", "target": "us-east"},
            "region_outage us-east",
        ),
        ("backlog (not yet delivered)", {}, "backlog (not yet delivered)"),
        ("shard {shard}", {}, "shard"),
        ("{region", {"region": "x"}, "{region"),
    ],
)
def test_legend(template: str, labels: dict[str, str], expected: str) -> None:
    assert legend(template, labels) == expected


def test_every_chart_is_collected_and_broken_ones_are_empty() -> None:
    by_key = {c.key: c for c in CHARTS}
    requests_q = by_key["requests_by_region"].queries[0][0]
    backlog_q, pending_q = (q for q, _ in by_key["queue"].queries)
    east = Series(labels={"region": "us-east"}, points=[(1.0, 3.0), (2.0, 4.0)])
    prom = FakeProm(
        AssertionError("charts use range queries only"),
        ranges={
            requests_q: [east],
            backlog_q: [Series(labels={}, points=[(1.0, 0.0)])],
            pending_q: InfraError("Prometheus at x failed on query 'y'"),
            by_key["error_ratio"].queries[0][0]: InfraError("down"),
        },
    )
    collected = collect_series(prom, 10.0, 70.0)
    assert set(collected) == set(by_key)
    [line] = collected["requests_by_region"]
    assert line.labels == {"region": "us-east", "legend": "us-east"}
    assert line.points == east.points
    assert [s.labels["legend"] for s in collected["queue"]] == ["backlog (not yet delivered)"]
    assert collected["error_ratio"] == []
    assert collected["live_workers"] == []
    assert {c[2:] for c in prom.calls} == {(10.0, 70.0, 1.0)}


def test_custom_charts() -> None:
    chart = ChartDef(key="k", title="t", unit="u", queries=(("q", "{legend}"),))
    prom = FakeProm(
        AssertionError("charts use range queries only"),
        ranges={"q": [Series(labels={"legend": "theirs"}, points=[])]},
    )
    [line] = collect_series(prom, 0, 1, charts=(chart,))["k"]
    assert line.labels["legend"] == "theirs"


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.key)
def test_every_charts_promql_parses(chart: ChartDef) -> None:
    import promql_parser

    for promql, _ in chart.queries:
        promql_parser.parse(promql)


def test_the_two_data_centres_charts_are_collected_with_their_legends() -> None:
    by_key = {c.key: c for c in CHARTS}
    assert by_key["replication_lag"].queries == (
        ("max by (shard) (pg_replica_replay_lag_seconds)", "shard {shard}"),
    )
    assert by_key["db_errors"].queries == (
        ("sum by (shard) (rate(web_db_errors_total[5s]))", "shard {shard}"),
    )
    [(primary_q, _)] = by_key["shard_primary"].queries
    assert "pg_node_standby" in primary_q and by_key["shard_primary"].lanes == "shard"
    node = {"shard": "2", "region": "us-west", "service": "shard-2-us-west"}
    prom = FakeProm(
        AssertionError("charts use range queries only"),
        ranges={
            primary_q: [Series(labels=node, points=[(1.0, 0.0), (2.0, 1.0)])],
            by_key["replication_lag"].queries[0][0]: [
                Series(labels={"shard": "2"}, points=[(1.0, 0.004)])
            ],
        },
    )
    collected = collect_series(prom, 0.0, 3.0)
    [line] = collected["shard_primary"]
    assert line.labels == {**node, "legend": "shard 2 primary in us-west"}
    assert [s.labels["legend"] for s in collected["replication_lag"]] == ["shard 2"]
    assert collected["db_errors"] == []
