"""The phases as they really happened: bounded by when faults were actually applied and removed.

A fault's window opens at its first effect (`FaultRecord.window_start`), not when its apply
step ended: the first errors of a region whose containers stop one by one belong to the fault
phase, not to `steady`. It closes when the removal is done (`removed_at`): until the last link
is enabled and the last container started, part of the fault is still in place, and the
recovery phase judges a stack with nothing left to heal.
"""

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
    applied = [f for f in faults if f.window_start is not None]
    if not applied:
        phases.append(PhaseWindow(name="steady", start=load_start, end=load_end))
        return phases
    first = min(f.window_start for f in applied if f.window_start is not None)
    last = max(f.removed_at if f.removed_at is not None else load_end for f in applied)
    last = min(last, load_end)
    phases += [
        PhaseWindow(name="steady", start=load_start, end=first),
        PhaseWindow(name="fault", start=first, end=last),
        PhaseWindow(name="recovery", start=last, end=load_end),
    ]
    spans = [
        (f.index, f.window_start, f.removed_at if f.removed_at is not None else load_end)
        for f in applied
        if f.window_start is not None
    ]
    windows = per_fault_windows(spans, load_end)
    phases += [PhaseWindow(name=name, start=a, end=b) for name, a, b in windows]
    return phases
