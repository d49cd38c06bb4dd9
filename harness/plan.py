"""The plan: a pure function from Scenario to Timeline, computed before anything starts.

    run       [0, duration]                  always
    steady    [0, first fault start)         the whole run when there are no faults
    fault     [first start, last end)        only with faults (gaps between faults included)
    recovery  [last end, duration]           only with faults
    fault[i]     [fault i start, its end)              one per fault, for SLOs with `fault: i`
    recovery[i]  [fault i end, next fault's start)     ... or to the end of the load

`plan_problems()` lists what makes a valid Scenario impossible to run as written (a fault
ending after the load, overlapping faults on one target, an SLO judged over a phase that is
missing or too short); `plan()` raises them together as one PlanError. Each problem carries
the field path it is about, so the loader can point at the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from harness.errors import UsageError
from harness.faults.spec import FaultSpec
from harness.fields.durations import format_duration as fmt
from harness.scenario.model import Scenario, StackOverrides, service_instances
from harness.scenario.problems import Problem as PlanProblem
from harness.scenario.problems import dotted

MIN_RECOVERY_S = 5.0
"""A recovery phase shorter than this leaves too few scrapes to judge anything."""


@dataclass(frozen=True, kw_only=True)
class Phase:
    """A named window of the run, in seconds from the start of the load."""

    name: str
    start_s: float
    end_s: float

    @property
    def window_s(self) -> float:
        """The phase's length in seconds (PromQL's range for SLOs judged over it)."""
        return self.end_s - self.start_s


@dataclass(frozen=True, kw_only=True)
class ScheduledFault:
    """One fault of the scenario (`faults[index]`) with its exact start and end offsets."""

    index: int
    spec: FaultSpec
    start_s: float
    end_s: float


@dataclass(frozen=True, kw_only=True)
class Timeline:
    """Everything that happens when, as plain data: the load, its phases and the faults."""

    duration_s: float
    phases: dict[str, Phase]
    faults: list[ScheduledFault]


class PlanError(UsageError):
    """A scenario is valid field by field but impossible as a plan; carries every problem."""

    def __init__(self, problems: list[PlanProblem]):
        self.problems = problems
        lines = [f"  {dotted(p.path)}: {p.message}" for p in problems]
        super().__init__("the scenario cannot be planned", detail="\n".join(lines))


def plan(scenario: Scenario) -> Timeline:
    """The scenario's Timeline; PlanError listing every problem if it cannot run as written."""
    problems = plan_problems(scenario)
    if problems:
        raise PlanError(problems)
    return timeline(scenario)


def timeline(scenario: Scenario) -> Timeline:
    """The phases and fault offsets, without checking them (see `plan`)."""
    duration = scenario.load.duration
    faults = [
        ScheduledFault(index=i, spec=f, start_s=f.at, end_s=f.at + f.duration)
        for i, f in enumerate(scenario.faults)
    ]
    phases = [Phase(name="run", start_s=0.0, end_s=duration)]
    if not faults:
        phases.append(Phase(name="steady", start_s=0.0, end_s=duration))
    else:
        first = min(f.start_s for f in faults)
        last = max(f.end_s for f in faults)
        phases += [
            Phase(name="steady", start_s=0.0, end_s=first),
            Phase(name="fault", start_s=first, end_s=last),
            Phase(name="recovery", start_s=min(last, duration), end_s=duration),
        ]
        spans = [(f.index, f.start_s, f.end_s) for f in faults]
        phases += [
            Phase(name=n, start_s=a, end_s=b) for n, a, b in per_fault_windows(spans, duration)
        ]
    return Timeline(duration_s=duration, phases={p.name: p for p in phases}, faults=faults)


def per_fault_windows(
    spans: Sequence[tuple[int, float, float]], end: float
) -> list[tuple[str, float, float]]:
    """(name, start, end) of `fault[i]` and `recovery[i]` for each (index, start, stop) span.

    A fault's recovery runs until the next fault starts (the first start at or after its
    stop), so what is judged there is the stack getting over this fault, not the next one.
    """
    windows = []
    for index, start, stop in spans:
        stop = min(stop, end)
        until = min((s for _, s, _ in spans if s >= stop), default=end)
        windows += [(f"fault[{index}]", start, stop), (f"recovery[{index}]", stop, until)]
    return windows


def plan_problems(scenario: Scenario) -> list[PlanProblem]:
    """Every reason the scenario cannot run as written; empty when it can."""
    line = timeline(scenario)
    return [
        *_late_faults(line),
        *_overlaps(line, scenario.stack),
        *_phase_problems(scenario, line),
        *_recover_references(scenario),
    ]


def _late_faults(line: Timeline) -> list[PlanProblem]:
    return [
        PlanProblem(
            ("faults", f.index, "duration"),
            f"the fault ends at {fmt(f.end_s)}, {fmt(f.end_s - line.duration_s)} after the load "
            f"ends (load.duration is {fmt(line.duration_s)})",
            "start it earlier, shorten it, or lengthen load.duration",
        )
        for f in line.faults
        if f.end_s > line.duration_s
    ]


def _touched(spec: FaultSpec, stack: StackOverrides) -> set[str]:
    """The fault's targets with service groups expanded to their instances."""
    touched = set()
    for target in spec.targets():
        kind, _, name = target.partition(":")
        names = service_instances(name, stack) if kind == "service" else [name]
        touched |= {f"{kind} {n}" for n in names}
    return touched


def _overlaps(line: Timeline, stack: StackOverrides) -> list[PlanProblem]:
    problems = []
    for a, b in combinations(line.faults, 2):
        if a.start_s >= b.end_s or b.start_s >= a.end_s:
            continue
        shared = sorted(_touched(a.spec, stack) & _touched(b.spec, stack))
        if shared:
            problems.append(
                PlanProblem(
                    ("faults", b.index),
                    f"this fault ({b.spec.type}, {fmt(b.start_s)}-{fmt(b.end_s)}) overlaps "
                    f"faults[{a.index}] ({a.spec.type}, {fmt(a.start_s)}-{fmt(a.end_s)}) "
                    f"on {shared[0]}",
                    "faults on the same link, service or region must not overlap in time; "
                    "move one of them or give it another target",
                )
            )
    return problems


def _phase_problems(scenario: Scenario, line: Timeline) -> list[PlanProblem]:
    problems = []
    for i, slo in enumerate(scenario.slos):
        problem = _phase_problem(slo.window, line)
        if problem:
            field = "phase" if slo.fault is None else "fault"
            problems.append(PlanProblem(("slos", i, field), *problem))
    if scenario.invariants and "recovery" in line.phases:
        problem = _phase_problem("recovery", line)
        if problem:
            message, hint = problem
            problems.append(PlanProblem(("invariants",), "invariants need it: " + message, hint))
    return problems


def _phase_problem(name: str, line: Timeline) -> tuple[str, str] | None:
    """(message, hint) when the phase does not exist or is too short to judge."""
    phase = line.phases.get(name)
    if phase is None and "[" in name:
        count = len(line.faults)
        return (
            f"there is no {name.partition('[')[2].rstrip(']')!r} fault to narrow the "
            f"{name.partition('[')[0]} phase to: the scenario has {count} "
            f"fault{'s' if count != 1 else ''}",
            f"valid indices: 0..{count - 1}" if count else "add a fault, or drop `fault`",
        )
    if phase is None:
        return (
            f"the phase {name!r} does not exist: the scenario has no faults",
            "without faults the phases are steady and run",
        )
    if name == "steady" and phase.window_s <= 0:
        return (
            "the steady phase is empty: the first fault starts at 0s",
            "start the first fault later (e.g. at: 30s) or judge this over another phase",
        )
    if name.startswith("recovery[") and phase.window_s < MIN_RECOVERY_S:
        return (
            f"the {name} window lasts only {fmt(phase.window_s)} (until the next fault starts or "
            f"the load ends); it needs at least {fmt(MIN_RECOVERY_S)}",
            "leave more time after that fault",
        )
    last_end = max((f.end_s for f in line.faults), default=0.0)
    if name == "recovery" and last_end <= line.duration_s and phase.window_s < MIN_RECOVERY_S:
        return (
            f"the recovery phase lasts only {fmt(phase.window_s)} (the last fault ends at "
            f"{fmt(last_end)}, the load at {fmt(line.duration_s)}); it needs at least "
            f"{fmt(MIN_RECOVERY_S)}",
            "lengthen load.duration or end the faults earlier",
        )
    return None


def _recover_references(scenario: Scenario) -> list[PlanProblem]:
    """Objectives counted from a fault (`time_to_recover_s`, `write_unavailable_s`: `fault: N`)
    naming one the scenario does not have."""
    count = len(scenario.faults)
    valid = f"valid indices: 0..{count - 1}" if count else "the scenario has no faults"
    return [
        PlanProblem(
            ("slos", i, slo.objective, "fault"),
            f"there is no faults[{index}]: the scenario has {count} "
            f"fault{'s' if count != 1 else ''}",
            valid,
        )
        for i, slo in enumerate(scenario.slos)
        if (index := slo.kind.fault_index(slo)) is not None and index >= count
    ]
