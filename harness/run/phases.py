"""The phases as they really happened: bounded by when faults were actually applied and removed."""

from __future__ import annotations

from harness.plan import per_fault_windows
from harness.record import FaultRecord, PhaseWindow


def actual_phases(
    load_start: float, load_end: float, faults: list[FaultRecord]
) -> list[PhaseWindow]:
    """`run`, and `steady`/`fault`/`recovery` (plus `fault[i]`/`recovery[i]` for each fault)
    from the recorded fault times.

    A fault that was never applied does not open a fault phase; one that was applied but not
    (yet) recorded as removed holds the fault phase open until the load ended.
    """
    phases = [PhaseWindow(name="run", start=load_start, end=load_end)]
    applied = [f for f in faults if f.applied_at is not None]
    if not applied:
        phases.append(PhaseWindow(name="steady", start=load_start, end=load_end))
        return phases
    first = min(f.applied_at for f in applied if f.applied_at is not None)
    last = max(f.removed_at if f.removed_at is not None else load_end for f in applied)
    last = min(last, load_end)
    phases += [
        PhaseWindow(name="steady", start=load_start, end=first),
        PhaseWindow(name="fault", start=first, end=last),
        PhaseWindow(name="recovery", start=last, end=load_end),
    ]
    spans = [
        (f.index, f.applied_at, f.removed_at if f.removed_at is not None else load_end)
        for f in applied
        if f.applied_at is not None
    ]
    windows = per_fault_windows(spans, load_end)
    phases += [PhaseWindow(name=name, start=a, end=b) for name, a, b in windows]
    return phases
