"""Advice on a scenario that runs as written but may not test what it reads as (pure).

Unlike the plan's problems these stop nothing: `harness validate` and `harness run` print them
and go on. One kind today: a settle-time bound (`time_to_recover_s`, `backlog_drained_within_s`)
that the judge cannot exceed. The judge searches a span of the run for the moment a series
settles (at or under its level, then held for HOLD_SAMPLES scrapes), so no settle time longer
than the span minus the hold can be found. A `max` at least that long never decides anything:
the SLO passes whenever the series settles at all, and reads as stricter than it is.

The spans are the judge's (harness.slo.judge `_reference`, `_recovery_span_end`), on planned
times instead of recorded ones:

    time_to_recover_s, from: start   the fault's start to its end
    time_to_recover_s, from: end     the fault's end to the start of the next fault in time
    backlog_drained_within_s         the fault's end (`fault: N`, else the last fault's) to
                                     the end of the SLO's phase
each cut at the end of the SLO's phase.
"""

from __future__ import annotations

from harness.fields.durations import format_duration as fmt
from harness.plan import Timeline, timeline
from harness.scenario.model import Scenario
from harness.scenario.problems import Problem
from harness.slo.model import SLO
from harness.slo.settle import HOLD_SAMPLES

STEP_S = 1.0  # the judge's range queries: one sample a second


def plan_warnings(scenario: Scenario) -> list[Problem]:
    """Every warning about `scenario` (a valid one: `plan_problems` found nothing)."""
    line = timeline(scenario)
    warnings = []
    for i, slo in enumerate(scenario.slos):
        span = settle_span(slo, line)
        if span is None:
            continue
        start, end, what = span
        bound = slo.kind.bounds(slo)[0]  # a drain may have only a `min`
        if bound is None:
            continue
        longest = max(0.0, end - start - (HOLD_SAMPLES - 1) * STEP_S)
        if bound >= longest:
            warnings.append(
                Problem(
                    ("slos", i, slo.objective, "max"),
                    f"max {fmt(bound)} cannot be exceeded: the judge searches {what} "
                    f"({fmt(end - start)}), and a settle ends with {HOLD_SAMPLES} samples "
                    f"{fmt(STEP_S)} apart at or under the level, so the longest it can find is "
                    f"{fmt(longest)}; this SLO fails only when the series never settles",
                    f"lower max below {fmt(longest)}, or leave more time after the fault",
                )
            )
    return warnings


def settle_span(slo: SLO, line: Timeline) -> tuple[float, float, str] | None:
    """(start, end, what it is) of the span the judge searches for `slo`'s settle; None
    for an objective that is not a settle time, or a span the plan does not have."""
    phase = line.phases.get(slo.window)
    faults = {f.index: f for f in line.faults}
    if phase is None or not faults:
        return None
    if slo.objective == "time_to_recover_s":
        fault = faults.get(slo.value.fault)
        if fault is None:
            return None
        if slo.value.from_ == "start":
            start, end, what = fault.start_s, fault.end_s, f"faults[{fault.index}] while applied"
        else:
            later = [f.start_s for f in line.faults if f.start_s >= fault.end_s]
            start, end = fault.end_s, min(later, default=phase.end_s)
            what = f"from faults[{fault.index}]'s end to the next fault or the phase's end"
    elif slo.objective == "backlog_drained_within_s":
        fault = faults.get(slo.fault) if slo.fault is not None else None
        start = fault.end_s if fault is not None else max(f.end_s for f in line.faults)
        end, what = phase.end_s, f"from the fault's end to the end of the {slo.window} phase"
    else:
        return None
    return start, min(end, phase.end_s), what
