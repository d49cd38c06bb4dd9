"""`promql:` objectives are parsed at validate, and a broken one says where it breaks."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import parse_scenario
from harness.scenario.promql_syntax import (
    WINDOW,
    PromqlError,
    promql_error,
    promql_problems,
    sample_query,
)
from harness.scenario.slo_model import OBJECTIVES, SLO
from harness.slo import promql as slo_promql


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sum(rate(harness_client_requests_total[$window]))", None),
        ('max_over_time(max({__name__=~"a|b"})[$window:1s])', None),
        ("up", None),
        ("sum(rate(x[5m])", PromqlError("unclosed left parenthesis", 1, 4, "(rate(x[5m])")),
        ("rate(x[5m]))", PromqlError("unexpected right parenthesis ')'", 1, 12, ")")),
        (
            "rat(x[$window])",
            PromqlError("unknown function with name 'rat'", 1, 1, "rat(x[$window])"),
        ),
        ("x[5q]", PromqlError("bad number or duration syntax: 5q", 1, 3, "5q]")),
        ("rate(x[5m]) +", PromqlError("invalid promql query", 1, 13, "+")),
        ("foo bar", PromqlError("invalid promql query", 1, 5, "bar")),
        ("sum(\n  rate(x[$window])\n) bad", PromqlError("invalid promql query", 3, 3, "bad")),
        (
            "rate(x{job=~'a'}[$window]) / rate(x{a}[$window])",
            PromqlError(
                "invalid label matcher, expected label matching operator after 'a'",
                1,
                37,
                "a}[$window])",
            ),
        ),
    ],
)
def test_promql_error(query: str, expected: PromqlError | None) -> None:
    assert promql_error(query) == expected


def test_the_message_names_the_column_and_what_is_near() -> None:
    error = promql_error("sum(rate(x[$window])")
    assert str(error) == (
        "invalid PromQL at column 4 (near '(rate(x[$window])'): unclosed left parenthesis"
    )


def test_window_is_the_judges_placeholder() -> None:
    assert WINDOW == slo_promql.WINDOW
    assert sample_query("rate(x[$window])") == "rate(x[1s])"


BUILT_IN: dict[str, dict[str, Any]] = {
    "error_ratio": {"error_ratio": {"max": 0.1, "region": "us-east", "request": "read_user"}},
    "latency_p50_ms": {"latency_p50_ms": {"max": 1}},
    "latency_p95_ms": {"latency_p95_ms": {"max": 1}},
    "latency_p99_ms": {"latency_p99_ms": {"max": 1}},
    "throughput_min_rps": {"throughput_min_rps": {"min": 1}},
    "server_error_ratio": {"server_error_ratio": {"max": 1, "tier": "entry"}},
    "server_latency_p95_ms": {"server_latency_p95_ms": {"max": 1, "tier": "shard", "shard": 1}},
    "queue_backlog_max": {"queue_backlog_max": {"max": 1}},
    "backlog_drained_within_s": {"backlog_drained_within_s": {"max": 1}},
    "time_to_recover_s": {"time_to_recover_s": {"max": 1, "region": "us-west"}},
    "replication_lag_s": {"replication_lag_s": {"max": 1, "shard": 2}},
    "promql": {"promql": "sum(rate(x[$window]))", "max": 1},
}
# Read from the load generator's ledger: no PromQL to parse (`source` is "ledger").
FROM_LEDGER = {"write_unavailable_s"}


def test_every_objective_has_a_query_here_or_is_read_from_the_ledger() -> None:
    assert set(OBJECTIVES) == set(BUILT_IN) | FROM_LEDGER
    assert not set(BUILT_IN) & FROM_LEDGER


@pytest.mark.parametrize("objective", sorted(BUILT_IN))
def test_every_built_in_query_parses(objective: str) -> None:
    slo = SLO.model_validate({"name": "s", "phase": "run", **BUILT_IN[objective]})
    assert slo.kind.source == "prometheus"
    assert promql_error(slo_promql.expand(slo, 30.0)) is None
    assert promql_error(slo_promql.template(slo).replace("$window_seconds", "30")) is None


def test_problems_from_models_and_from_raw_data() -> None:
    good = SLO(name="a", phase="run", promql="up", max=1)
    bad = SLO(name="b", phase="run", promql="up(", max=1)
    (problem,) = promql_problems([good, bad])
    assert problem.path == ("slos", 1, "promql") and "unclosed" in problem.message
    raw = [{"promql": "up("}, "not a mapping", {"promql": 3}, {"error_ratio": {}}]
    assert [p.path for p in promql_problems(raw)] == [("slos", 0, "promql")]
    assert promql_problems(None) == []


HEAD = """\
name: t
load: {users: 10, spawn_rate: 5, duration: 60s, geography: {us-east: 50, us-west: 50}}
slos:
  - name: mine
    phase: run
    max: 1
"""


def test_validate_reports_it_at_the_promql_line_with_every_other_problem() -> None:
    text = HEAD.replace("users: 10", "users: 0") + "    promql: sum(rate(x[$window])\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    assert info.value.problems == [
        "s.yaml:2: load.users: Input should be greater than 0, got 0",
        "s.yaml:7: slos[0].promql: invalid PromQL at column 4 (near '(rate(x[$window])'): "
        "unclosed left parenthesis (hint: fix the query there; $window stands for the "
        "phase's length, e.g. 30s)",
    ]


def test_a_valid_query_validates() -> None:
    scenario = parse_scenario(HEAD + "    promql: sum(rate(x[$window]))\n", "s.yaml")
    assert scenario.slos[0].promql == "sum(rate(x[$window]))"


def test_a_long_broken_query_is_placed() -> None:
    query = "sum(" + " + ".join(["rate(x_total{a='b'}[$window])"] * 120) + " bad)"
    error = promql_error(query)
    assert error is not None and error.near.startswith("bad")


def test_only_the_first_broken_queries_are_located() -> None:
    problems = promql_problems([{"promql": "up("}] * 12)
    assert [p.message.startswith("invalid PromQL at column 3") for p in problems] == (
        [True] * 10 + [False] * 2
    )
    assert problems[-1].message == "invalid PromQL: unclosed left parenthesis"
