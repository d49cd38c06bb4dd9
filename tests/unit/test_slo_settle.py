"""When a recorded series settles at or under its level (recovers, never, flaps, gaps, NaN)."""

from __future__ import annotations

import pytest

from harness.slo.judge import recovery_story
from harness.slo.settle import Recovery, recovery, settled_after

NAN = float("nan")


def pts(*values: float, t0: float = 100.0) -> list[tuple[float, float]]:
    return [(t0 + i, v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("points", "since", "level", "expected"),
    [
        pytest.param(pts(0.5, 0.4, 0.0, 0.0, 0.0, 0.0), 100.0, 0.01, 2.0, id="recovers"),
        pytest.param(pts(0.0, 0.0, 0.0), 100.0, 0.01, 0.0, id="already fine"),
        pytest.param(pts(0.5, 0.5, 0.5, 0.5), 100.0, 0.01, None, id="never recovers"),
        pytest.param(
            pts(0.5, 0.0, 0.0, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0),
            100.0,
            0.01,
            6.0,
            id="flaps then settles",
        ),
        pytest.param(pts(0.5, 0.0, 0.5, 0.0, 0.0), 100.0, 0.01, None, id="flaps to the end"),
        pytest.param(pts(0.5, 0.01, 0.01, 0.01), 100.0, 0.01, 1.0, id="level is inclusive"),
        pytest.param(pts(NAN, NAN, 0.0, 0.0, 0.0), 100.0, 0.01, 2.0, id="NaN is not recovered"),
        pytest.param(
            [(100.0, None), (101.0, 0.0), (102.0, 0.0), (103.0, 0.0)],
            100.0,
            0.01,
            1.0,
            id="a gap (None) is not recovered",
        ),
        pytest.param(
            pts(0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0),
            103.0,
            0.01,
            1.0,
            id="samples before since ignored",
        ),
        pytest.param(pts(9, 3, 0, 0, 0), 100.5, 0, 1.5, id="counted from the reference instant"),
        pytest.param(
            [(100.0, 0.0), (101.0, 0.0), (105.0, 0.0), (106.0, 0.0), (107.0, 0.0)],
            100.0,
            0.0,
            5.0,
            id="a gap breaks the run",
        ),
        pytest.param([], 100.0, 0.0, None, id="empty"),
    ],
)
def test_settled_after(
    points: list[tuple[float, float]], since: float, level: float, expected: float | None
) -> None:
    assert settled_after(points, since=since, level=level) == expected


def test_hold_is_configurable() -> None:
    assert settled_after(pts(1, 0, 1, 0), since=100.0, level=0, hold=1) == 1.0


def at(*values: float | None, t0: float = 100.0) -> list[tuple[float, float | None]]:
    return [(t0 + i, v) for i, v in enumerate(values)]


OK = 0.0
BAD = 0.5


@pytest.mark.parametrize(
    ("points", "until", "expected"),
    [
        pytest.param(
            at(*[OK] * 4, *[BAD] * 16, *[OK] * 10),
            129.0,
            Recovery(20.0, 4.0, 20.0, 4.0, BAD, OK),
            id="late rise: errors begin 4 s in, end at 20 s",
        ),
        pytest.param(at(*[OK] * 10), 109.0, Recovery(0.0, None, None, 0.0, OK, OK), id="no rise"),
        pytest.param(
            at(BAD, BAD, OK, OK, BAD, OK, OK, OK, OK),
            108.0,
            Recovery(5.0, 0.0, 5.0, 0.0, BAD, OK),
            id="flapping: the end of the last breach",
        ),
        pytest.param(
            at(BAD, 0.9, OK, OK, OK),
            104.0,
            Recovery(2.0, 0.0, 2.0, 1.0, 0.9, OK),
            id="the peak is the highest value",
        ),
        pytest.param(
            at(*[BAD] * 10),
            109.0,
            Recovery(None, 0.0, None, 0.0, BAD, BAD),
            id="never recovered",
        ),
        pytest.param(
            at(*[BAD] * 8, OK, OK),
            109.0,
            Recovery(None, 0.0, 8.0, 0.0, BAD, OK),
            id="recovered only in the last samples",
        ),
        pytest.param(
            at(OK, OK, BAD, OK, OK, OK, BAD, OK),
            107.0,
            Recovery(None, 2.0, 7.0, 2.0, BAD, OK),
            id="breaches again after a hold: the last breach counts",
        ),
        pytest.param(
            [(100.0, OK), (101.0, OK), (105.0, OK), (106.0, OK), (107.0, OK)],
            107.0,
            Recovery(5.0, 2.0, 5.0, 0.0, OK, OK),
            id="a gap is a breach",
        ),
        pytest.param(
            [(103.0, OK), (104.0, OK), (105.0, OK)],
            105.0,
            Recovery(3.0, 0.0, 3.0, 3.0, OK, OK),
            id="a gap at the start is a breach",
        ),
        pytest.param(
            at(BAD, OK, OK, OK),
            110.0,
            Recovery(None, 0.0, None, 0.0, BAD, None),
            id="a gap at the end is not recovered",
        ),
        pytest.param(
            at(BAD, OK, OK, OK), None, Recovery(1.0, 0.0, 1.0, 0.0, BAD, OK), id="no until"
        ),
        pytest.param(
            at(BAD, None, NAN, OK, OK, OK),
            105.0,
            Recovery(3.0, 0.0, 3.0, 0.0, BAD, OK),
            id="None and NaN are breaches",
        ),
        pytest.param(
            at(OK, OK, 0.01, 0.01),
            103.0,
            Recovery(0.0, None, None, 2.0, 0.01, 0.01),
            id="the level is inclusive",
        ),
        pytest.param(
            at(NAN, NAN),
            101.0,
            Recovery(None, 0.0, None, None, None, None),
            id="no value at all",
        ),
        pytest.param([], 110.0, Recovery(None, 0.0, None, None, None, None), id="empty"),
    ],
)
def test_recovery(
    points: list[tuple[float, float | None]], until: float | None, expected: Recovery
) -> None:
    assert recovery(points, since=100.0, until=until, level=0.01) == expected


def test_recovery_ignores_samples_outside_the_window() -> None:
    points = at(BAD, BAD, OK, OK, OK, OK, BAD, BAD)
    found = recovery(points, since=102.0, until=105.0, level=0.01)
    assert found == Recovery(0.0, None, None, 0.0, OK, OK)


def test_recovery_counts_from_the_reference_instant() -> None:
    # A real fault starts between two samples; the first sample after it is not a gap.
    found = recovery(at(BAD, BAD, OK, OK, OK, t0=100.6), since=100.2, until=104.6, level=0.01)
    assert found.recovered_after_s == pytest.approx(2.4)
    assert found.began_s == pytest.approx(0.4)


def test_the_report_is_told_when_errors_began_peaked_and_ended() -> None:
    points = [(100.0 + i, v) for i, v in enumerate([0, 0, 0.2, 0.5, 0.1, 0, 0, 0, 0])]
    found = recovery(points, since=100.0, until=108.0, level=0.01)
    assert recovery_story(found, 0.01) == (
        "errors above 0.01 began at +2 s, peaked at 0.5 at +3 s, ended at +5 s"
    )
    quiet = recovery([(100.0 + i, 0.0) for i in range(6)], since=100.0, until=105.0, level=0.01)
    assert recovery_story(quiet, 0.01).startswith("the error ratio never rose above 0.01")
