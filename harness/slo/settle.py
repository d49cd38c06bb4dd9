"""When a series settles at or under a level (pure): backlog drained, error ratio recovered.

A dip that lasts one or two samples is not a recovery (a flapping failover is not recovered):
the value must stay at or under the level for `hold` consecutive samples. A missing value
(None or NaN: no requests in the rate window, 0/0) is never "at or under", and neither is a
gap in the samples (more than 1.5 steps without one): a region nobody hears from is not
recovered.

Two readings of "settled", for two kinds of series:

- `recovery` (time_to_recover_s): the END of the LAST breach inside the window, then the hold.
  The first quiet run is the wrong answer for errors: a fault's errors take a few seconds to
  show in a rate, so the first seconds of a broken failover look fine and would read "0 s".
- `settled_after` (backlog_drained_within_s): the FIRST run of `hold` samples at or under the
  level. A backlog is measured under live load, where new jobs arrive every second: once the
  fault's backlog has reached 0 and stayed there, a later blip of a job or two is ordinary
  queueing, not the fault's backlog coming back, and the last-breach rule would turn it into
  "never drained" (a backlog that never reaches 0 for `hold` samples is still not drained).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HOLD_SAMPLES = 3
GAP_STEPS = 1.5  # more than this many steps between two samples is a gap (missing data)

Points = Sequence[tuple[float, float | None]]


def _at_or_under(value: float | None, level: float) -> bool:
    return value is not None and value <= level  # False for NaN too


def settled_after(
    points: Points,
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
        contiguous = previous is not None and t - previous <= GAP_STEPS * step_s
        previous = t
        if not _at_or_under(value, level):
            run_start, count = None, 0
            continue
        if run_start is None or not contiguous:
            run_start, count = t, 0
        count += 1
        if count >= hold:
            return max(0.0, run_start - since)
    return None


@dataclass(frozen=True)
class Recovery:
    """What a series did after `since`; every time is in seconds after `since`.

    `recovered_after_s`: the end of the last breach (0 when there was none), when the hold
    that follows it completed inside the window; None when it did not (still above the level
    at the end, no data at the end, or too few samples after the last breach).
    `began_s`: the start of the first breach; `ended_s`: the end of the last one (None while
    it lasts to the end of the window); both None when the series never breached.
    `peak_s`, `peak`: the first sample with the highest value (None without any value).
    `last`: the value at the end of the window (None when it is missing).
    """

    recovered_after_s: float | None
    began_s: float | None
    ended_s: float | None
    peak_s: float | None
    peak: float | None
    last: float | None


def recovery(
    points: Points,
    *,
    since: float,
    until: float | None = None,
    level: float,
    step_s: float = 1.0,
    hold: int = HOLD_SAMPLES,
) -> Recovery:
    """How the series in `points` recovered between `since` and `until` (see `Recovery`).

    A sample above `level`, a missing value and a gap all breach. The stretch before the first
    sample, and after the last one up to `until` (when given), counts as a gap when it is
    longer than 1.5 steps: missing data at the edges of the window is not a recovery either.
    """
    window = sorted(p for p in points if p[0] >= since and (until is None or p[0] <= until))
    began: float | None = None
    ended: float | None = None
    breached = False  # the previous sample (or gap) was a breach
    run = 0  # samples at or under the level since the last breach
    previous = since  # a gap at the start of the window counts from `since`
    for t, value in window:
        if t - previous > GAP_STEPS * step_s:
            gap_start = previous + step_s if t != window[0][0] else since
            began = gap_start if began is None else began
            breached, run = True, 0
        previous = t
        if not _at_or_under(value, level):
            began = t if began is None else began
            breached, run = True, 0
            continue
        if breached:
            ended, breached = t, False
        run += 1
    tail_missing = until is not None and until - previous > GAP_STEPS * step_s
    if tail_missing:
        gap_start = previous + step_s if window else since
        began = gap_start if began is None else began
        breached, run = True, 0
    if breached:  # the last breach lasts to the end of the window: it never ended
        ended = None
    peak_t, peak = _peak(window)
    last = None if tail_missing or not window else window[-1][1]
    recovered = None
    if not breached and run >= hold:
        recovered = 0.0 if ended is None else max(0.0, ended - since)
    return Recovery(
        recovered_after_s=recovered,
        began_s=None if began is None else max(0.0, began - since),
        ended_s=None if ended is None else max(0.0, ended - since),
        peak_s=None if peak_t is None else max(0.0, peak_t - since),
        peak=peak,
        last=None if last is None or math.isnan(last) else last,
    )


def _peak(window: Points) -> tuple[float | None, float | None]:
    best: tuple[float | None, float | None] = (None, None)
    for t, value in window:
        if value is None or math.isnan(value):
            continue
        if best[1] is None or value > best[1]:
            best = (t, value)
    return best
