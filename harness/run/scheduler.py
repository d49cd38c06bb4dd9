"""Applies each fault at its offset and removes it at its end, on the run's clock.

The scheduler holds the active faults' context managers itself (not in one ExitStack)
because faults end at different times; `heal()` leaves whatever is still active, newest
first, and is called from the orchestrator's `finally`, so an exception or Ctrl-C removes
every fault. The actual times are what it records, and the report and the SLO windows use
them rather than the schedule: the first effect (stamped by the fault's FaultEffects right
before its first change to the stack; status `applying`), the end of the apply step
(`applied`), the start and the end of the removal (`removing`, `removed`).

A fault that ran but did not do what it was asked (`FaultDidNotBite`) is an infrastructure
error of the run like a fault that could not be applied: the run cannot pass on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from harness.errors import InfraError
from harness.faults.effects import FaultEffects
from harness.faults.runtime import FaultDidNotBite
from harness.plan import ScheduledFault
from harness.record import FaultRecord

# The fault's context manager, built on the FaultEffects the scheduler reads its stamps from.
MakeFault = Callable[[ScheduledFault, FaultEffects], AbstractContextManager[None]]
OnChange = Callable[[FaultRecord], None]


def target_of(fault: ScheduledFault) -> str:
    """A short human name for what a fault touches: `us-east`, `shard2-us-east`, `shard-2`.

    A region fault is named by its region(s) rather than by the links it takes down."""
    shard = getattr(fault.spec, "shard", None)
    if shard is not None:
        return f"shard-{shard}"
    targets = fault.spec.targets()
    chosen = [t for t in targets if t.startswith("region:")] or list(targets)
    return ", ".join(t.split(":", 1)[-1] for t in chosen) or fault.spec.type


class FaultScheduler:
    def __init__(
        self,
        faults: list[ScheduledFault],
        make: MakeFault,
        *,
        on_change: OnChange = lambda record: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pending = sorted(faults, key=lambda f: (f.start_s, f.index))
        self._make = make
        self._on_change = on_change
        self._clock = clock
        self._active: dict[int, tuple[ScheduledFault, AbstractContextManager[None]]] = {}
        self._effects: dict[int, FaultEffects] = {}
        self.records = {
            f.index: FaultRecord(
                index=f.index,
                type=f.spec.type,
                target=target_of(f),
                planned_start_s=f.start_s,
                planned_end_s=f.end_s,
            )
            for f in faults
        }

    @property
    def active(self) -> list[int]:
        return list(self._active)

    def next_due(self) -> float | None:
        """The next offset at which something must happen, or None when all is done."""
        times = [f.start_s for f in self._pending] + [f.end_s for f, _ in self._active.values()]
        return min(times) if times else None

    def sleep_s(self, elapsed_s: float, cap_s: float) -> float:
        """How long the run loop may sleep: until the next due fault, at most `cap_s`, and at
        least 5 ms (so the loop never spins). Waking at the due time keeps faults on schedule."""
        due = self.next_due()
        wait = cap_s if due is None else min(cap_s, due - elapsed_s)
        return max(0.005, wait)

    def tick(self, elapsed_s: float) -> None:
        """Remove what is due to end, then apply what is due to start."""
        for index, (fault, _) in list(self._active.items()):
            if fault.end_s <= elapsed_s:
                self._remove(index)
        began = self._clock()
        while self._pending and self._pending[0].start_s <= elapsed_s:
            # The time spent applying the ones before counts: it delays this one for real.
            self._apply(self._pending.pop(0), elapsed_s + self._clock() - began)

    def cancel_pending(self) -> list[FaultRecord]:
        """Drop the faults not applied yet and record them as never run: a run that stops
        early must not apply and remove them at once (that would look like a fault that ran)."""
        cancelled = [self.records[f.index] for f in self._pending]
        self._pending.clear()
        for record in cancelled:
            record.status = "never_ran"
            self._on_change(record)
        return cancelled

    def _apply(self, fault: ScheduledFault, elapsed_s: float) -> None:
        record = self.records[fault.index]
        record.late_s = max(0.0, elapsed_s - fault.start_s)
        effects = FaultEffects(clock=self._clock, on_first=lambda at: self._opened(record, at))
        self._effects[fault.index] = effects
        cm = self._make(fault, effects)
        try:
            cm.__enter__()
        except Exception as exc:
            record.effects = dict(effects.counts)
            record.status, record.error = "failed", str(exc)
            self._on_change(record)
            if isinstance(exc, FaultDidNotBite):
                raise InfraError(
                    f"{fault.spec.type} (faults[{fault.index}]) {exc.message}", hint=exc.hint
                ) from exc
            raise InfraError(
                f"fault {fault.index} ({fault.spec.type} on {record.target}) could not be applied:"
                f" {exc}",
                hint="the stack was healed; see the run's results.json for what had been done",
            ) from exc
        record.applied_at, record.status = self._clock(), "applied"
        record.effects = dict(effects.counts)
        self._active[fault.index] = (fault, cm)
        self._on_change(record)

    def _opened(self, record: FaultRecord, at: float) -> None:
        """The fault's first change is about to be made: its window opens now."""
        record.first_effect_at, record.status = at, "applying"
        self._on_change(record)

    def _remove(self, index: int) -> None:
        _, cm = self._active.pop(index)
        record = self.records[index]
        # Nothing waits before a removal's first change, so its start is stamped here.
        record.removal_started_at, record.status = self._clock(), "removing"
        self._on_change(record)
        try:
            cm.__exit__(None, None, None)
        except Exception as exc:
            record.effects = dict(self._effects[index].counts)
            record.status, record.error = "failed", f"removal failed: {exc}"
            self._on_change(record)
            raise InfraError(
                f"fault {index} ({record.type} on {record.target}) could not be removed: {exc}",
                hint="`harness heal` removes what a fault left (Toxiproxy reset, containers"
                " started)",
            ) from exc
        record.removed_at, record.status = self._clock(), "removed"
        record.effects = dict(self._effects[index].counts)
        self._on_change(record)

    def heal(self) -> list[str]:
        """Remove every active fault, newest first; return the errors instead of stopping,
        each naming the fault and what it was left on. Faults not applied yet never run."""
        errors = []
        for index in reversed(list(self._active)):
            try:
                self._remove(index)
            except InfraError as exc:  # names the fault and what it was left on
                errors.append(exc.message)
        self.cancel_pending()
        return errors
