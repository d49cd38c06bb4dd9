"""Healing at the end of a run, and what a heal that fails leaves: each failure names the
fault, the links or the containers left broken, so the run's error can say what to fix.

Typed against the ports (harness/ports.py via the Target): no adapter is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import HarnessError, InfraError
from harness.record import FaultRecord
from harness.run.scheduler import FaultScheduler
from harness.target import Target


def heal_faults(scheduler: FaultScheduler) -> None:
    """Remove every active fault; one InfraError naming each fault that could not be."""
    errors = scheduler.heal()
    if errors:
        raise InfraError("; ".join(errors))


def safety_net(target: Target, faults: Sequence[FaultRecord] = ()) -> None:
    """Toxiproxy reset and every container started: whatever a fault left behind is undone.
    Both are tried; what failed is named (with what this run's applied faults touched), so
    the run's error says what is left broken."""
    touched = sorted({f.target for f in faults if f.applied_at is not None})
    where = f" (this run's faults touched {', '.join(touched)})" if touched else ""
    errors = []
    try:
        target.links.reset()
    except Exception as exc:
        errors.append(
            f"Toxiproxy reset failed, links of stack {target.name!r} may keep toxics or stay"
            f" disabled{where}: {first_line(exc)}"
        )
    try:
        target.containers.heal_all()
    except Exception as exc:
        errors.append(f"starting the stack's stopped or paused containers failed{where}: {exc}")
    if errors:
        raise InfraError("; ".join(errors))


def first_line(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, HarnessError) else str(exc)
    return text.splitlines()[0] if text else repr(exc)


def left_broken_error(left_broken: list[str], stack: str) -> InfraError:
    """The run's error when a vital cleanup failed: what is left, and the command that fixes it."""
    return InfraError(
        "the stack was left broken: " + "; ".join(left_broken),
        hint=f"run `harness heal --stack {stack}` (faults, Toxiproxy, stopped containers)"
        f" or `harness cleanup --stack {stack}` (a stack that was not removed)",
    )
