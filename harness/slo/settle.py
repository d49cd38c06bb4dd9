"""When a series settles at or under a level (pure): backlog drained, error ratio recovered.

A dip that lasts one or two samples is not a recovery (a flapping failover is not recovered):
the value must stay at or under the level for `hold` consecutive samples. A missing value
(None or NaN: no requests in the rate window, 0/0) is never "at or under".
"""

from __future__ import annotations

from collections.abc import Sequence

HOLD_SAMPLES = 3


def settled_after(
    points: Sequence[tuple[float, float | None]],
    *,
    since: float,
    level: float,
    step_s: float = 1.0,
    hold: int = HOLD_SAMPLES,
) -> float | None:
    """Seconds from `since` to the first sample at or under `level` that starts a run of at
    least `hold` consecutive such samples; None when that never happens. Samples before
    `since` are ignored; a gap in the samples (more than 1.5 steps) breaks a run."""
    run_start: float | None = None
    count = 0
    previous: float | None = None
    for t, value in sorted(p for p in points if p[0] >= since):
        contiguous = previous is not None and t - previous <= 1.5 * step_s
        previous = t
        if value is None or not value <= level:  # also true for NaN
            run_start, count = None, 0
            continue
        if run_start is None or not contiguous:
            run_start, count = t, 0
        count += 1
        if count >= hold:
            return max(0.0, run_start - since)
    return None
