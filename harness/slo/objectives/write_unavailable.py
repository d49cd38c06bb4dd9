"""`write_unavailable_s`: the write RTO of a fault, per shard: seconds from the fault's first
effect until writes to the shard succeed again. Judged on the worst shard (or `shard: N`).

Read from the load generator's LEDGER, not from Prometheus: an acknowledged write is the only
proof that a shard took writes, wherever its primary was. A shard's acknowledged writes (users,
and photo jobs, whose row lives on their owner's shard) are put in time order, by the commit's
time on the stack's clock (`committed_at`; the acknowledgement's `t` for a write whose answer
did not say). Its figure is the longest gap between consecutive writes that ends after the
fault's first effect (`first_effect_at`, else `applied_at`), counted from the later of the gap's
start and the first effect; the last write to the end of the SLO's phase window is a gap too.

    a shard's writes:   | | | | |                               | | | | |
    the first effect:             ^
    the first write again:                                      ^
    its figure:                   |<---------- 14.2 s --------->|

The search ends at the end of the SLO's phase window (`phase: run`: the end of the load), or
at the next fault's first effect if that comes first (what follows is that fault's doing). A
shard with no acknowledged write at all after the first effect until then was unavailable to
the end: its figure is that time, a lower bound, and it fails whatever `max` says (the RTO is
longer than the run could show). A shard without any acknowledged write in the whole run
cannot be judged (an error: too little load to tell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from harness.fields import limits
from harness.slo.objectives._base import LedgerMeasure, NoMeasure, Objective, register_objective
from harness.vocabulary import SHARD_COUNT, shard_of

if TYPE_CHECKING:
    from harness.load.ledger import Ledger
    from harness.record import FaultRecord, PhaseWindow
    from harness.slo.model import SLO


class WriteOutageBound(BaseModel):
    """How long writes to a shard may fail after a fault's first effect, at most."""

    model_config = ConfigDict(extra="forbid")

    max: float = Field(
        ge=0, le=limits.MAX_DURATION_S, description="Seconds writes may be unavailable."
    )
    fault: int = Field(
        default=0,
        ge=0,
        lt=limits.MAX_FAULTS,
        description="Index of the fault in `faults` (0 = first): counted from its first effect.",
    )
    shard: int | None = Field(
        default=None,
        ge=0,
        lt=SHARD_COUNT,
        description="Only this shard (user_id % 4); by default the worst one.",
    )


@dataclass(frozen=True, kw_only=True)
class ShardOutage:
    """A shard's longest write gap after a fault's first effect."""

    shard: int
    seconds: float
    began: float  # the gap's start, or the first effect if it began before
    resumed: float | None  # the write that ended it; None: the window ended first
    writes: int  # the shard's acknowledged writes in the whole ledger
    writes_after: int  # of those, after the first effect and up to the window's end

    @property
    def never_resumed(self) -> bool:
        """No acknowledged write at all after the first effect, up to the window's end."""
        return self.writes_after == 0


def write_times(ledger: Ledger) -> dict[int, list[float]]:
    """Every shard's acknowledged writes (users and jobs) as commit times, sorted: the stack's
    `committed_at`, or the acknowledgement's `t` where the answer did not say."""
    times: dict[int, list[float]] = {shard: [] for shard in range(SHARD_COUNT)}
    for user in ledger.users:
        times.setdefault(user.shard, []).append(_when(user.committed_at, user.t))
    for job in ledger.jobs:
        times.setdefault(shard_of(job.user_id), []).append(_when(job.committed_at, job.t))
    return {shard: sorted(ts) for shard, ts in sorted(times.items())}


def _when(committed_at: float | None, t: float) -> float:
    return t if committed_at is None else committed_at


def shard_outage(shard: int, times: Sequence[float], *, since: float, until: float) -> ShardOutage:
    """The longest gap of sorted write `times` that ends after `since` (the first effect),
    counted from `since` at the earliest; the last write to `until` (where the search ends) is
    a gap too, and writes after `until` are not seen."""
    after = [t for t in times if since < t <= until]
    found: tuple[float, float, float | None] = (-1.0, since, None)  # seconds, began, resumed
    for start, end in zip([since, *after], [*after, None], strict=True):
        length = (until if end is None else end) - start
        if length > found[0]:
            found = (length, start, end)
    seconds, began, resumed = found
    return ShardOutage(
        shard=shard,
        seconds=max(0.0, seconds),
        began=began,
        resumed=resumed,
        writes=len(times),
        writes_after=len(after),
    )


def describe(outage: ShardOutage, *, end_name: str) -> str:
    """`shard 0: 14.2 s`; a shard whose writes never came back says so."""
    text = f"shard {outage.shard}: {outage.seconds:.1f} s"
    if outage.never_resumed:
        return text + f" (no acknowledged write after the first effect: unavailable to {end_name})"
    return text


@register_objective
class WriteUnavailable(Objective):
    key = "write_unavailable_s"
    value = WriteOutageBound
    description = (
        "Seconds from a fault's first effect until writes to a shard succeed again (the write "
        "RTO), from the ledger; the worst shard, or `shard`."
    )
    source = "ledger"

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        spec: WriteOutageBound = slo.value
        which = "each shard" if spec.shard is None else f"shard {spec.shard}"
        return (
            f"ledger: acknowledged writes (users, jobs) of {which} by commit time; the longest "
            f"gap after faults[{spec.fault}]'s first effect"
            + (" (worst shard)" if spec.shard is None else "")
        )

    @classmethod
    def bounds(cls, slo: SLO) -> tuple[float | None, float | None]:
        return slo.value.max, None

    @classmethod
    def measure(
        cls, slo: SLO, ledger: Ledger, faults: Sequence[FaultRecord], *, window: PhaseWindow
    ) -> LedgerMeasure:
        spec: WriteOutageBound = slo.value
        fault = next((f for f in faults if f.index == spec.fault), None)
        if fault is None:
            raise NoMeasure(f"the run recorded no fault {spec.fault}")
        since = fault.window_start  # the first effect, else the end of its apply step
        if since is None:
            raise NoMeasure(f"fault {spec.fault} ({fault.type}) was never applied")
        if since >= window.end:
            raise NoMeasure(
                f"it counts from t={since:.0f}, after the {window.name} window ends; "
                "judge it over a later phase (recovery or run)"
            )
        times = write_times(ledger)
        if not any(times.values()):
            raise NoMeasure(
                "the ledger holds no acknowledged write (user or photo job), so nothing tells "
                "when writes succeeded (does the load create users or submit photos?)"
            )
        judged = list(times) if spec.shard is None else [spec.shard]
        empty = [s for s in judged if not times.get(s)]
        if empty:
            raise NoMeasure(
                f"no acknowledged write to shard {', '.join(map(str, empty))} in the whole run: "
                "its write availability cannot be told (more load, or more create_user and "
                "submit_photo)"
            )
        later = [
            f.window_start
            for f in faults
            if f.index != fault.index and f.window_start is not None and f.window_start > since
        ]
        until = min([window.end, *later])
        if until < window.end:
            end_name = "the next fault's first effect"
        elif window.name == "run":
            end_name = "the end of the run"
        else:
            end_name = f"the end of the {window.name} window"
        outages = {
            shard: shard_outage(shard, ts, since=since, until=until) for shard, ts in times.items()
        }
        detail = "; ".join(describe(o, end_name=end_name) for o in outages.values())
        if until < window.end:
            detail += f" (searched up to the next fault's first effect, +{until - since:.1f} s)"
        worst = max((outages[s] for s in judged), key=lambda o: o.seconds)
        gone = [str(s) for s in judged if outages[s].never_resumed]
        why = None
        if gone:
            why = (
                f"writes to shard {', '.join(gone)} never succeeded again after fault "
                f"{spec.fault}'s first effect, up to {end_name}: unavailable at least "
                f"{worst.seconds:.1f} s"
            )
        return LedgerMeasure(
            start=since,
            end=until,
            observed=worst.seconds,
            fails=bool(gone),
            why=why,
            detail=detail,
        )
