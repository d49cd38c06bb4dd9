"""The DNS failover breakdown of a region outage, from recorded series.

Each case writes one character per second, from the fault's start, for the answer the DNS
server gave the failed region's (us-east's) subnet and for where its users' requests went:

answers: E us-east, W us-west, x no answer (SERVFAIL, timeout), m both equally, . no point
requests (10 a second): E all served by us-east, W all by us-west, 0 none answered, 1-9 that
many of 10 by us-west and the rest by none, . no point
"""

from __future__ import annotations

import math

import pytest

from harness.record import Series
from harness.slo.dns_failover import DnsFailover, Move, dns_failover

T = 1_800_000_000.0
EAST, WEST = "us-east", "us-west"
ANSWER = {"E": EAST, "W": WEST, "x": "none"}
SERVED = {"E": EAST, "W": WEST, "0": "none"}


def answer_lines(values: str, client: str = EAST, start: float = T) -> list[Series]:
    """One line per answered region, 1 while it is the answer (a prober's gauge)."""
    lines = []
    for answer in ANSWER.values():
        points: list[tuple[float, float | None]] = []
        for i, c in enumerate(values):
            if c == ".":
                continue
            is_it = (c == "m" and answer in (EAST, WEST)) or ANSWER.get(c) == answer
            points.append((start + i, 1.0 if is_it else 0.0))
        lines.append(
            Series(labels={"client_region": client, "answer_region": answer}, points=points)
        )
    return lines


def request_lines(values: str, home: str = EAST, start: float = T) -> list[Series]:
    """One line per serving region, requests per second (10 in all)."""
    counts: dict[str, list[tuple[float, float | None]]] = {r: [] for r in SERVED.values()}
    for i, c in enumerate(values):
        if c == ".":
            continue
        split = {SERVED[c]: 10.0} if c in SERVED else {WEST: float(c), "none": 10.0 - float(c)}
        for region, points in counts.items():
            points.append((start + i, split.get(region, 0.0)))
    return [
        Series(labels={"region": home, "served_region": r, "route": "x"}, points=p)
        for r, p in counts.items()
    ]


def breakdown(answers: str, requests: str, end: int | None = None, **kw: float) -> DnsFailover:
    return dns_failover(
        region=EAST,
        fault_start=T,
        fault_end=None if end is None else T + end,
        answers=answer_lines(answers),
        requests=request_lines(requests),
        check_interval_s=2,
        ttl_s=10,
        **kw,
    )


BOUND = "(check interval 2 s + TTL 10 s = 12 s: the last client that honours the TTL moves by then)"
CHANGED_3 = "us-east: detected in 3 s, DNS answer changed at 3 s"
CHANGED_4 = "us-east: detected in 2 s, DNS answer changed at 4 s"


@pytest.mark.parametrize(
    ("answers", "requests", "summary"),
    [
        pytest.param(
            "EEE" + "W" * 17,
            "EE" + "0" * 4 + "12345678" + "W" * 6,
            f"{CHANGED_3}, last client moved at 14 s {BOUND}",
            id="clean failover",
        ),
        pytest.param(
            "E" * 20,
            "EE" + "0" * 18,
            "us-east: the DNS answer for us-east's users never left us-east during the fault,"
            " clients never moved: 100% of requests still sent to us-east at the end (stale)"
            f" {BOUND}",
            id="no change ever",
        ),
        pytest.param(
            "EEWEWEW" + "W" * 13,
            "EE" + "0" * 6 + "5" * 4 + "W" * 8,
            "us-east: detected in 2 s, DNS answer changed at 2 s (flapping: 5 changes),"
            f" last client moved at 12 s {BOUND}",
            id="flapping",
        ),
        pytest.param(
            "EE....WWWWWW",
            "EE..00..5WWW",
            "us-east: detected in 6 s, DNS answer changed at 6 s (first seen after 4 s without"
            f" answers), last client moved at 9 s {BOUND}",
            id="gaps in both series",
        ),
        pytest.param(
            "EEE" + "W" * 17,
            "EE" + "0" * 12 + "999999",
            "us-east: detected in 3 s, DNS answer changed at 3 s, clients never moved: 10% of"
            f" requests still sent to us-east at the end (stale) {BOUND}",
            id="a client that never moves (stale)",
        ),
        pytest.param(
            "EExxWWWW",
            "EE0004WW",
            f"{CHANGED_4}, last client moved at 6 s {BOUND}",
            id="no answer first: detected before it changed",
        ),
        pytest.param(
            "EEmmWWWW",
            "EE0004WW",
            f"{CHANGED_4}, last client moved at 6 s {BOUND}",
            id="mixed answers are not home and not yet moved",
        ),
        pytest.param(
            "EExxxxxx",
            "EE000000",
            "us-east: detected in 2 s, DNS answer never changed to another region, clients never"
            f" moved: 100% of requests still sent to us-east at the end (stale) {BOUND}",
            id="the server stops answering",
        ),
        pytest.param(
            "",
            "EE000",
            f"us-east: no DNS answers recorded for us-east's users during the fault {BOUND}",
            id="no answers recorded",
        ),
        pytest.param(
            "EEWWW",
            "",
            "us-east: detected in 2 s, DNS answer changed at 2 s, no requests of us-east's users"
            f" seen {BOUND}",
            id="no requests recorded",
        ),
        pytest.param(
            "WWWW",
            "WWWW",
            "us-east: detected in 0 s, DNS answer changed at 0 s, last client moved at 0 s"
            f" {BOUND}",
            id="moved from the first second",
        ),
    ],
)
def test_away(answers: str, requests: str, summary: str) -> None:
    result = breakdown(answers, requests)
    assert result.back is None
    assert result.summary == summary


def test_the_fields_of_a_clean_failover() -> None:
    away = breakdown("EEE" + "W" * 17, "EE" + "0" * 4 + "12345678" + "W" * 6).away
    assert away == Move(
        start=T,
        detected_s=3,
        answer_changed_s=3,
        answer_gap_s=None,
        answer_changes=1,
        answered=True,
        last_client_moved_s=14,
        left_behind=0.0,
    )


def test_no_change_ever_is_none_everywhere() -> None:
    away = breakdown("E" * 10, "0" * 10).away
    assert (away.detected_s, away.answer_changed_s, away.last_client_moved_s) == (None,) * 3
    assert away.left_behind == 1.0


@pytest.mark.parametrize(
    ("answers", "requests", "back"),
    [
        pytest.param(
            "EE" + "W" * 18 + "WWEEEEEEEE",
            "EE" + "0" * 4 + "5" * 4 + "W" * 10 + "WWW" + "5" * 3 + "EEEE",
            "back: DNS answer home at 2 s, last client back at 6 s",
            id="return after the fault",
        ),
        pytest.param(
            "EE" + "W" * 18 + "W" * 10,
            "EE" + "0" * 4 + "W" * 14 + "W" * 10,
            "back: DNS answer never returned to us-east,"
            " clients never back: 100% of requests not yet back in us-east at the end (stale)",
            id="never returns",
        ),
        pytest.param(
            "EE" + "W" * 18 + "W..EEE",
            "EE" + "0" * 4 + "W" * 14 + "W..EEE",
            "back: DNS answer home at 3 s (first seen after 2 s without answers),"
            " last client back at 3 s",
            id="return seen after a gap",
        ),
    ],
)
def test_back(answers: str, requests: str, back: str) -> None:
    result = breakdown(answers, requests, end=20)
    assert result.summary.endswith(f"{BOUND}; {back}")
    assert result.back is not None and result.back.start == T + 20
    # the way back is judged after the fault's end only: the away move is unchanged
    assert result.away == breakdown(answers[:20], requests[:20]).away


def test_no_back_when_nothing_was_recorded_after_the_fault() -> None:
    assert breakdown("EE" + "W" * 8, "EE" + "W" * 8, end=10).back is None


def test_the_away_move_ends_at_the_fault_end() -> None:
    # the answer changes only after the fault ended: not a failover
    result = breakdown("E" * 10 + "WWW", "0" * 10 + "WWW", end=10)
    assert result.away.answer_changed_s is None
    assert result.back is not None and result.back.answer_changed_s is None


def test_a_single_short_second_resets_the_move_unless_the_share_allows_it() -> None:
    answers, requests = "EW" + "W" * 8, "E0" + "WWW9WWWWW"
    assert breakdown(answers, requests).away.last_client_moved_s == 6
    assert breakdown(answers, requests, moved_share=0.9).away.last_client_moved_s == 2


def test_answer_counts_pick_the_region_most_answers_named() -> None:
    def line(answer: str, values: list[float]) -> Series:
        points: list[tuple[float, float | None]] = [(T + i, v) for i, v in enumerate(values)]
        return Series(labels={"client_region": EAST, "answer_region": answer}, points=points)

    answers = [line(EAST, [5, 3, 1, 0]), line(WEST, [0, 2, 4, 5])]
    result = dns_failover(
        region=EAST,
        fault_start=T,
        fault_end=None,
        answers=answers,
        requests=[],
        check_interval_s=2,
        ttl_s=10,
    )
    assert result.away.answer_changed_s == 2


def test_other_client_regions_and_nan_points_are_ignored() -> None:
    west_users = answer_lines("WWWWEEEE", client=WEST) + request_lines("EEEE", home=WEST)
    east = answer_lines("EEWW")
    east[0].points[1] = (T + 1, math.nan)
    east[1].points[1] = (T + 1, None)
    result = dns_failover(
        region=EAST,
        fault_start=T,
        fault_end=None,
        answers=east + [s for s in west_users if "client_region" in s.labels],
        requests=request_lines("E0WW") + [s for s in west_users if "served_region" in s.labels],
        check_interval_s=2,
        ttl_s=10,
    )
    assert (result.away.detected_s, result.away.last_client_moved_s) == (2, 2)
    assert result.away.answer_changes == 1


def test_points_out_of_order_are_read_in_time_order() -> None:
    answers = answer_lines("EEWW")
    for line in answers:
        line.points.reverse()
    result = dns_failover(
        region=EAST,
        fault_start=T,
        fault_end=None,
        answers=answers,
        requests=request_lines("0WWW"),
        check_interval_s=2,
        ttl_s=10,
    )
    assert (result.away.answer_changed_s, result.away.last_client_moved_s) == (2, 1)


def test_an_unknown_region_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown region 'eu-west'"):
        dns_failover(
            region="eu-west",
            fault_start=T,
            fault_end=None,
            answers=[],
            requests=[],
            check_interval_s=2,
            ttl_s=10,
        )
