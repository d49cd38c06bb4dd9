"""Did the run happen as planned? If not, it is not judged.

A PASS must not come from a run that did not take place: a load generator that died 8 s into
a 30 s load, that never reached its users, or faults applied long after their time would
leave SLO windows that measure something other than the scenario. `RunGuard` watches the
load window and raises `RunDeviated` (exit 3, nothing judged) with one line saying what
happened, when, the tolerance it broke, and where to look. Pure: it reads what the load
reports (`Progress`) and the fault records; the orchestrator feeds it.
"""

from __future__ import annotations

import math
import signal
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InfraError, RunDeviated
from harness.load.progress import Progress
from harness.load.settings import LoadSettings
from harness.ports import LoadProcess
from harness.record import FaultRecord

# The load may end this much before its planned end: Locust's `-t` is whole seconds, and time
# zero is when its history file appears (it starts the test right after), so an on-time load
# ends within about 1 s of the plan; 3 s leaves room for a slow last history write.
LOAD_EARLY_S = 3.0
# All planned users must run by spawn time (users / spawn_rate) plus this: Locust spawns at
# spawn_rate per second, writes its history once a second, and shares 2 cores with the stack;
# 10 s absorbs a slow start, not a load that never ramped up.
SPAWN_GRACE_S = 10.0
# The share of planned users that counts as "all of them": Locust runs exactly the number
# asked for, so any shortfall is a user class failing to start; kept at 100 %.
USERS_REQUIRED = 1.0
# A fault may begin this much after its planned offset: the run loop wakes at the due time
# (within milliseconds), so a later start means the loop stalled (a slow removal or apply
# before it, a starved machine) and the fault windows no longer match the plan.
FAULT_LATE_S = 2.0
# Locust's exit codes that mean "ran to the end": 0, and 1 (some requests failed, which is
# for the SLOs to judge). Any other code, or a signal, is a load generator that broke.
LOAD_EXIT_OK = (0, 1)


@dataclass(frozen=True, kw_only=True)
class LoadPlan:
    users: int
    spawn_rate: float
    duration_s: float
    run_dir: Path

    @classmethod
    def of(cls, settings: LoadSettings, *, processes: int, run_dir: Path) -> LoadPlan:
        """The plan of the Locust users the runner starts. Main's open load model (issue 11b,
        `settings.model == "open"`) runs one scheduler user per process, all at once, so its
        Locust user count is `processes`, not the scenario's users; read without assuming
        that field exists, so this holds before and after that branch meets this one."""
        if getattr(settings, "model", "closed") == "open":
            users, rate = processes, float(processes)
        else:
            users, rate = settings.users, settings.spawn_rate
        return cls(users=users, spawn_rate=rate, duration_s=settings.duration_s, run_dir=run_dir)

    @property
    def users_due_s(self) -> float:
        """When every planned user must be running, from the load's start."""
        return self.users / self.spawn_rate + SPAWN_GRACE_S

    @property
    def users_needed(self) -> int:
        return max(1, math.ceil(self.users * USERS_REQUIRED))


class RunGuard:
    """Checks the load window against the plan; each check raises `RunDeviated` or returns."""

    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.peak_users = 0
        self._users_checked = False

    def _deviated(self, what: str, *, look: str | None = None) -> RunDeviated:
        hint = look or (
            f"see {self.plan.run_dir / 'locust.log'} and {self.plan.run_dir / 'locust.stderr'}"
        )
        return RunDeviated(f"{what}; the run is not judged", hint=hint)

    def saw(self, progress: Progress) -> None:
        """Note what the load reported (called about once a second)."""
        self.peak_users = max(self.peak_users, progress.users)

    def check_users(self, elapsed_s: float) -> None:
        """Once the users are due, every planned user must have been seen running (the load
        is read about once a second, so the peak is at most a second old)."""
        if self._users_checked or elapsed_s < self.plan.users_due_s:
            return
        self._users_checked = True
        if self.peak_users < self.plan.users_needed:
            raise self._deviated(
                f"the load generator ran at most {self.peak_users} of {self.plan.users} planned"
                f" users by {elapsed_s:.1f} s of the load (due by {self.plan.users_due_s:.1f} s:"
                f" spawn time + SPAWN_GRACE_S {SPAWN_GRACE_S:g} s)"
            )

    def check_faults(self, records: list[FaultRecord]) -> None:
        """Every fault begun so far began within FAULT_LATE_S of its planned offset."""
        for f in records:
            if f.late_s is not None and f.late_s > FAULT_LATE_S:
                raise self._deviated(
                    f"fault {f.index} ({f.type} on {f.target}) began {f.late_s:.1f} s after its"
                    f" planned {f.planned_start_s:g} s (FAULT_LATE_S {FAULT_LATE_S:g} s)",
                    look="the run's events in results.json; a slow Docker engine or a stalled"
                    " harness delays faults",
                )

    def check_end(
        self, elapsed_s: float, exit_code: int | None, never_ran: list[FaultRecord]
    ) -> None:
        """The load ran to its end (within LOAD_EARLY_S), exited normally, and every fault
        ran. `exit_code` None: the load's code could not be read (it left no history)."""
        early = self.plan.duration_s - elapsed_s
        skipped = _never_ran(never_ran)
        if early > LOAD_EARLY_S or exit_code not in LOAD_EXIT_OK:
            raise self._deviated(
                f"the load generator (Locust) {_exit_text(exit_code)} at {elapsed_s:.1f} s of the"
                f" {self.plan.duration_s:g} s load"
                + (f", {early:.1f} s early (LOAD_EARLY_S {LOAD_EARLY_S:g} s)" if early > 0 else "")
                + skipped
            )
        if never_ran:
            raise self._deviated(f"the load ended at {elapsed_s:.1f} s{skipped}")


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exited with no readable exit code"
    if code < 0:
        try:
            name = f" ({signal.Signals(-code).name})"
        except ValueError:
            name = ""
        return f"was killed by signal {-code}{name}"
    if code in LOAD_EXIT_OK:
        return f"exited with code {code}"
    return f"exited with code {code} (a crash: only 0 and 1 are normal)"


def _never_ran(faults: list[FaultRecord]) -> str:
    if not faults:
        return ""
    names = ", ".join(
        f"{f.index} ({f.type} on {f.target}, due at {f.planned_start_s:g} s)" for f in faults
    )
    return f"; faults that never ran: {names}"


def exit_code(load: LoadProcess, timeout_s: float) -> int | None:
    """The load generator's exit code. One that left no history is a deviation of the run
    (it never ran its load); one still running past the timeout stays an infra error."""
    try:
        return load.wait(timeout_s=timeout_s)
    except InfraError as err:
        if load.running or isinstance(err, RunDeviated):
            raise
        raise RunDeviated(
            f"the load generator {err.message}; the run is not judged",
            hint=err.hint,
            detail=err.detail,
        ) from err
