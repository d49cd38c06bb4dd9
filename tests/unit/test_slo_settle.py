"""When a recorded series settles at or under its level (recovers, never, flaps, gaps, NaN)."""

from __future__ import annotations

import pytest

from harness.slo.settle import settled_after

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
