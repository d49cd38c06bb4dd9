"""The failover manager's events, derived from where each shard's primary was (recorded series).

Each case is one node's line of the "shard_primary" chart, as Prometheus answers
`max by (shard, region, service) (1 - pg_node_standby)` at a step of 1 s: 1 while the node is
the primary, 0 while it is a standby, no point while its exporter does not answer.
"""

from __future__ import annotations

import math

import pytest

from harness.record import Event, Series
from harness.slo.failover import failover_events, node_events
from tests.samples import FAILOVER_EVENTS, sample_record

T = 1_800_000_000.0
EAST0 = {"shard": "0", "region": "us-east", "service": "shard-0-us-east", "legend": "x"}
WEST0 = {"shard": "0", "region": "us-west", "service": "shard-0-us-west", "legend": "x"}


def line(labels: dict[str, str], values: str, start: int = 0) -> Series:
    """A line from one character per second: 1 primary, 0 standby, . no point, n NaN."""
    points: list[tuple[float, float | None]] = []
    for i, c in enumerate(values):
        if c == ".":
            continue
        points.append((T + start + i, None if c == "n" else float(c)))
    return Series(labels=labels, points=points)


def seen(events: list[Event]) -> list[tuple[float, str, str]]:
    return [(e.t - T, e.kind, e.message) for e in events]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param("1111", [], id="always primary"),
        pytest.param("0000", [], id="always standby"),
        pytest.param("", [], id="no points"),
        pytest.param(
            "11100000", [(3, "demoted", "shard 0: shard-0-us-east demoted")], id="clean demotion"
        ),
        pytest.param(
            "0001111", [(3, "promoted", "shard 0: shard-0-us-east promoted")], id="clean promotion"
        ),
        pytest.param(
            "111000111",
            [
                (3, "demoted", "shard 0: shard-0-us-east demoted"),
                (6, "promoted", "shard 0: shard-0-us-east promoted"),
            ],
            id="failover then failback",
        ),
        pytest.param(
            "0101",
            [
                (1, "promoted", "shard 0: shard-0-us-east promoted"),
                (2, "demoted", "shard 0: shard-0-us-east demoted"),
                (3, "promoted", "shard 0: shard-0-us-east promoted"),
            ],
            id="flapping: every change",
        ),
        pytest.param(
            "111.....000",
            [
                (
                    8,
                    "demoted",
                    "shard 0: shard-0-us-east demoted"
                    " (while not reporting: seen as a standby after 6 s without data)",
                )
            ],
            id="gap: demoted while down, seen as a standby when back",
        ),
        pytest.param("111.....111", [], id="gap: same role on both sides"),
        pytest.param("11nnn11", [], id="NaN points are no role"),
        pytest.param(
            "00nn11",
            [
                (
                    4,
                    "promoted",
                    "shard 0: shard-0-us-east promoted"
                    " (while not reporting: seen as a primary after 3 s without data)",
                )
            ],
            id="NaN gap",
        ),
        pytest.param("....0000", [], id="first role seen late: where it starts, not a change"),
    ],
)
def test_node_events(values: str, expected: list[tuple[float, str, str]]) -> None:
    assert seen(node_events(line(EAST0, values))) == expected


def test_points_out_of_order_are_read_in_time_order() -> None:
    series = line(EAST0, "1100")
    series.points.reverse()
    assert seen(node_events(series)) == [(2, "demoted", "shard 0: shard-0-us-east demoted")]


def test_a_clean_failover_of_a_shard_is_the_old_primarys_demotion_then_the_promotion() -> None:
    # us-east cut off: its primary is fenced at 4 s; us-west's standby promoted at 16 s
    # (once the leader lock's TTL has run out), then both stay.
    lines = [line(WEST0, "0" * 16 + "1" * 10), line(EAST0, "1111" + "0" * 22)]
    assert seen(failover_events(lines)) == [
        (4, "demoted", "shard 0: shard-0-us-east demoted"),
        (16, "promoted", "shard 0: shard-0-us-west promoted"),
    ]


def test_at_the_same_second_the_demotion_comes_first() -> None:
    lines = [line(WEST0, "0011"), line(EAST0, "1100")]
    assert [e.kind for e in failover_events(lines)] == ["demoted", "promoted"]


def test_a_failback_moves_the_primary_there_and_back() -> None:
    east = line(EAST0, "11" + "0" * 8 + "1" * 5)
    west = line(WEST0, "000" + "1" * 7 + "0" * 5)
    assert seen(failover_events([east, west])) == [
        (2, "demoted", "shard 0: shard-0-us-east demoted"),
        (3, "promoted", "shard 0: shard-0-us-west promoted"),
        (10, "demoted", "shard 0: shard-0-us-west demoted"),
        (10, "promoted", "shard 0: shard-0-us-east promoted"),
    ]


def test_a_stopped_region_comes_back_as_standby() -> None:
    # mode stop: us-east's node gives no data for 20 s; us-west promoted meanwhile; us-east
    # rejoins as a standby (pg_rewind)
    east = line(EAST0, "111" + "." * 20 + "0000")
    west = line(WEST0, "0" * 15 + "1" * 12)
    assert seen(failover_events([east, west])) == [
        (15, "promoted", "shard 0: shard-0-us-west promoted"),
        (
            23,
            "demoted",
            "shard 0: shard-0-us-east demoted"
            " (while not reporting: seen as a standby after 21 s without data)",
        ),
    ]


def test_the_gap_threshold_follows_the_step() -> None:
    series = Series(labels=EAST0, points=[(T, 1.0), (T + 5, 0.0)])
    assert "not reporting" not in node_events(series, step_s=5.0)[0].message
    assert "not reporting" in node_events(series, step_s=1.0)[0].message


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"shard": "1", "region": "us-west"}, "shard 1: shard-1-us-west promoted"),
        ({"service": "pg-a"}, "pg-a promoted"),
        ({"instance": "x:9187"}, "instance=x:9187 promoted"),
        ({}, "a node promoted"),
    ],
)
def test_a_node_is_named_from_whatever_labels_it_has(labels: dict[str, str], message: str) -> None:
    [event] = node_events(Series(labels=labels, points=[(T, 0.0), (T + 1, 1.0)]))
    assert event.message == message


def test_nan_values_from_prometheus_are_no_role() -> None:
    series = Series(labels=EAST0, points=[(T, 1.0), (T + 1, math.nan), (T + 2, 1.0)])
    assert node_events(series) == []


def test_the_sample_records_events_are_what_its_series_say() -> None:
    assert failover_events(sample_record().series["shard_primary"], step_s=5.0) == FAILOVER_EVENTS
