"""SLO verdicts (pure over `PromQuery` and the ledger): each SLO over the ACTUAL window of its
phase.

pass: the observed value is within its bounds (max and min both inclusive). fail: a bound is
violated, or a drain/recovery never happened. error: the judge could not tell, which is never
a pass: the phase has no recorded window, Prometheus failed (its InfraError's message is kept),
the query returned no data or NaN (0/0: nothing happened in the window), or several series came
back for a query that must yield one.

An objective whose `source` is the ledger (`write_unavailable_s`) asks Prometheus nothing: its
kind measures it from the load generator's ledger and the fault records (`Objective.measure`),
which the caller passes as `ledger`; without one it is an error. It fails whatever its bounds
when its kind says the value is only a lower bound (`LedgerMeasure.fails`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.errors import HarnessError
from harness.load.ledger import Ledger
from harness.record import FaultRecord, PhaseWindow, SloResult, Verdict
from harness.slo.model import SLO
from harness.slo.objectives import LedgerMeasure, NoMeasure
from harness.slo.promql import expand, is_range_objective, template
from harness.slo.query import PromQuery
from harness.slo.settle import HOLD_SAMPLES, Recovery, recovery, settled_after


class _NoVerdict(Exception):
    """The SLO cannot be judged; the message says why (becomes SloResult.error)."""


def judge_slos(
    slos: Sequence[SLO],
    phases: Sequence[PhaseWindow],
    faults: Sequence[FaultRecord],
    prom: PromQuery,
    *,
    ledger: Ledger | None = None,
) -> list[SloResult]:
    """One SloResult per SLO, in order. Never raises for a single SLO's trouble. `ledger`:
    the run's acknowledged writes, for the objectives read from it."""
    return [judge_slo(slo, phases, faults, prom, ledger=ledger) for slo in slos]


def bounds(slo: SLO) -> tuple[float | None, float | None]:
    """(max, min) of an SLO, wherever its objective keeps them."""
    return slo.kind.bounds(slo)


def judge_slo(
    slo: SLO,
    phases: Sequence[PhaseWindow],
    faults: Sequence[FaultRecord],
    prom: PromQuery,
    *,
    ledger: Ledger | None = None,
) -> SloResult:
    """The verdict of one SLO (see the module docstring for the rules)."""
    max_, min_ = bounds(slo)
    head: dict[str, Any] = {"name": slo.name, "phase": slo.window, "objective": slo.objective}
    head |= {"max": max_, "min": min_, "source": slo.kind.source}
    window = next((p for p in phases if p.name == slo.window), None)
    if window is None:
        missing = f"the run has no {slo.window} phase window (it ended or failed before it)"
        return SloResult(**head, promql=template(slo), verdict="error", error=missing)
    promql = expand(slo, window.end - window.start)
    if slo.kind.source == "ledger":
        return _judge_from_ledger(slo, head, promql, window, faults, ledger)
    try:
        start, observed, why, detail = _measure(slo, promql, window, faults, prom)
    except _NoVerdict as exc:
        return _error(head, promql, window, str(exc))
    except HarnessError as exc:
        return _error(head, promql, window, exc.message)
    verdict = _verdict(observed, max_, min_)
    return SloResult(
        **head,
        promql=promql,
        window_start=start,
        window_end=window.end,
        observed=observed,
        verdict=verdict,
        error=why,
        detail=detail,
    )


def _judge_from_ledger(
    slo: SLO,
    head: dict[str, Any],
    source: str,
    window: PhaseWindow,
    faults: Sequence[FaultRecord],
    ledger: Ledger | None,
) -> SloResult:
    """A ledger objective's verdict: its kind measures it; the bounds judge it as any other."""
    if ledger is None:
        return _error(head, source, window, "no ledger was read for this run: nothing to judge")
    try:
        found: LedgerMeasure = slo.kind.measure(slo, ledger, faults, window=window)
    except NoMeasure as exc:
        return _error(head, source, window, str(exc))
    return SloResult(
        **head,
        promql=source,
        window_start=found.start,
        window_end=found.end,
        observed=found.observed,
        verdict=_verdict(found.observed, head["max"], head["min"], fails=found.fails),
        error=found.why,
        detail=found.detail,
    )


def _verdict(
    observed: float | None, max_: float | None, min_: float | None, *, fails: bool = False
) -> Verdict:
    """pass within the bounds (inclusive); fail outside them, without a value, or `fails`."""
    if observed is None or fails:
        return "fail"
    too_high = max_ is not None and observed > max_
    too_low = min_ is not None and observed < min_
    return "fail" if too_high or too_low else "pass"


def _measure(
    slo: SLO,
    promql: str,
    window: PhaseWindow,
    faults: Sequence[FaultRecord],
    prom: PromQuery,
) -> tuple[float, float | None, str | None, str | None]:
    """(window start, observed value or None, why there is no value, how it came about)."""
    if not is_range_objective(slo):
        return window.start, _instant(promql, window, prom), None, None
    since = _reference(slo, faults)
    until = min(window.end, _recovery_span_end(slo, faults) or window.end)
    return (since, *_settle_time(slo, promql, since, until, window, prom))


def _error(head: dict[str, Any], promql: str, window: PhaseWindow, why: str) -> SloResult:
    return SloResult(
        **head,
        promql=promql,
        window_start=window.start,
        window_end=window.end,
        verdict="error",
        error=why,
    )


def _instant(promql: str, window: PhaseWindow, prom: PromQuery) -> float:
    samples = prom.instant(promql, window.end)
    if not samples:
        raise _NoVerdict(f"no data: the query returned nothing for the {window.name} window")
    if len(samples) > 1:
        labels = "; ".join(str(s[0]) for s in samples[:3])
        raise _NoVerdict(
            f"{len(samples)} series came back where one was expected ({labels}); "
            "aggregate them with sum() or max()"
        )
    value = samples[0][1]
    if math.isnan(value):
        raise _NoVerdict(f"no data: NaN over the {window.name} window (0/0: nothing counted?)")
    return value


def _reference(slo: SLO, faults: Sequence[FaultRecord]) -> float:
    """The instant a drain or recovery is counted from."""
    if slo.time_to_recover_s is not None:
        spec = slo.time_to_recover_s
        fault = next((f for f in faults if f.index == spec.fault), None)
        if fault is None:
            raise _NoVerdict(f"the run recorded no fault {spec.fault}")
        # from: start counts from the fault's first effect, when its clients first felt it.
        at = fault.window_start if spec.from_ == "start" else fault.removed_at
        if at is None:
            done = "applied" if spec.from_ == "start" else "removed"
            raise _NoVerdict(f"fault {spec.fault} ({fault.type}) was never {done}")
        return at
    if slo.fault is not None:  # drained after this fault (a recovery[N] window)
        fault = next((f for f in faults if f.index == slo.fault), None)
        if fault is None or fault.removed_at is None:
            raise _NoVerdict(f"the backlog is counted from fault {slo.fault}'s removal: never")
        return fault.removed_at
    removed = [f.removed_at for f in faults]
    if not removed or None in removed:
        raise _NoVerdict("the backlog is counted from the last fault's removal: none was removed")
    return max(t for t in removed if t is not None)


def _recovery_span_end(slo: SLO, faults: Sequence[FaultRecord]) -> float | None:
    """Where a time_to_recover_s search stops, inside its phase window: `from: start` is the
    recovery while the fault is in place (its removal ends it: errors after that are the
    failback's, or a later fault's), `from: end` the one after its removal (up to the start of
    the next fault in time, as the plan's recovery[N] windows: faults need not be listed in
    time order). None: the phase window's end."""
    spec = slo.time_to_recover_s
    if spec is None:
        return None
    fault = next((f for f in faults if f.index == spec.fault), None)
    if fault is None:
        return None
    if spec.from_ == "start" or fault.removed_at is None:
        return fault.removed_at
    removed = fault.removed_at
    later = [
        f.window_start for f in faults if f.window_start is not None and f.window_start >= removed
    ]
    return min(later, default=None)


def _settle_time(
    slo: SLO, promql: str, since: float, until: float, window: PhaseWindow, prom: PromQuery
) -> tuple[float | None, str | None, str | None]:
    if since >= window.end:
        raise _NoVerdict(
            f"it counts from t={since:.0f}, after the {window.name} window ends; "
            "judge it over a later phase (recovery or run)"
        )
    series = prom.range(promql, since, until, 1.0)
    if not series or all(_missing(v) for s in series for _, v in s.points):
        raise _NoVerdict(f"no data: the series is empty over the {window.name} window")
    if len(series) > 1:
        raise _NoVerdict(f"{len(series)} series came back where one was expected")
    points = series[0].points
    if slo.time_to_recover_s is None:
        level = float(slo.backlog_drained_within_s.level)
        observed = settled_after(points, since=since, level=level)
        last = points[-1][1] if points else None
        end = f"the end of the {window.name} window"
        return observed, None if observed is not None else _unsettled(last, level, end), None
    spec = slo.time_to_recover_s
    found = recovery(points, since=since, until=until, level=spec.level)
    story = recovery_story(found, spec.level)
    if found.recovered_after_s is not None:
        return found.recovered_after_s, None, story
    end = f"the end of the {window.name} window"
    if until < window.end:
        end = f"fault {spec.fault}'s removal" if spec.from_ == "start" else "the next fault"
    return None, _unsettled(found.last, spec.level, end), story


def recovery_story(found: Recovery, level: float) -> str:
    """When the error ratio rose above `level`, peaked and came back, counted from the fault's
    start (or end): what a reader needs to see why the recovery took what it took."""
    if found.began_s is None:
        peak = "" if found.peak is None else f" (peak {found.peak:.3g})"
        return f"the error ratio never rose above {level:g}{peak}"
    ended = "lasted to the end" if found.ended_s is None else f"ended at +{found.ended_s:.0f} s"
    peak = "" if found.peak is None else f", peaked at {found.peak:.3g} at +{found.peak_s:.0f} s"
    return f"errors above {level:g} began at +{found.began_s:.0f} s{peak}, {ended}"


def _unsettled(last: float | None, level: float, end: str) -> str:
    """Why a series did not settle by `end`: above the level (or no data) there, or back at or
    under it for too few samples."""
    if last is None or not last <= level:
        shown = "no data" if last is None or math.isnan(last) else f"{last:.4g}"
        return f"still above {level:g} at {end} ({shown})"
    return (
        f"back at or under {level:g} only in the last samples before {end} "
        f"(needs {HOLD_SAMPLES} in a row)"
    )


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)
