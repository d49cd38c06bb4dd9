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
    end = until if until is not None else (window[-1][0] if window else since)
    breaches, quiet = _breaches(window, since=since, end=end, level=level, step_s=step_s)
    ended = breaches[-1][1] if breaches else None
    recovered = None
    if quiet >= hold and (not breaches or ended is not None):
        recovered = 0.0 if ended is None else ended - since
    peak_t, peak = _peak(window)
    tail_missing = not window or end - window[-1][0] > GAP_STEPS * step_s
    last = None if tail_missing else window[-1][1]
    return Recovery(
        recovered_after_s=recovered,
        began_s=_after(breaches[0][0] if breaches else None, since),
        ended_s=_after(ended, since),
        peak_s=_after(peak_t, since),
        peak=peak,
        last=last if _is_value(last) else None,
    )


def _breaches(
    window: Points, *, since: float, end: float, level: float, step_s: float
) -> tuple[list[list[float | None]], int]:
    """The breaches in order, each [start, end or None while it lasts], and how many samples
    at or under the level follow the last one. A gap breaches from the step after the sample
    before it (from `since` at the start) to the sample after it (never, at the end)."""
    breaches: list[list[float | None]] = []
    quiet = 0
    previous: float | None = None
    for t, value in window:
        if _gap_before(t, previous, since, step_s):
            _breach(breaches, since if previous is None else previous + step_s)
            quiet = 0
        previous = t
        if _at_or_under(value, level):
            if breaches and breaches[-1][1] is None:
                breaches[-1][1] = t
            quiet += 1
        else:
            _breach(breaches, t)
            quiet = 0
    if _gap_before(end, previous, since, step_s):  # no data up to the end of the window
        _breach(breaches, since if previous is None else previous + step_s)
        quiet = 0
    return breaches, quiet


def _gap_before(t: float, previous: float | None, since: float, step_s: float) -> bool:
    return t - (since if previous is None else previous) > GAP_STEPS * step_s


def _breach(breaches: list[list[float | None]], at: float) -> None:
    """A breach starts at `at`, unless one is already going on."""
    if not breaches or breaches[-1][1] is not None:
        breaches.append([at, None])


def _after(t: float | None, since: float) -> float | None:
    return None if t is None else max(0.0, t - since)


def _is_value(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _peak(window: Points) -> tuple[float | None, float | None]:
    best: tuple[float | None, float | None] = (None, None)
    for t, value in window:
        if value is not None and _is_value(value) and (best[1] is None or value > best[1]):
            best = (t, value)
    return best
