"""`time_to_recover_s`: seconds from a fault's start (or end) until the client error ratio is
back under `level` and stays there. Judged from a range query of a short-window error ratio
(harness.slo.promql.recovery_series), searched by harness.slo.settle; the instant it counts
from is the fault's recorded time (harness.slo.judge): its first effect on the stack for
`from: start`, the end of its removal for `from: end`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.fields import limits
from harness.fields.names import Region
from harness.slo.objectives._base import Objective, register_objective
from harness.slo.promql import recovery_series
from harness.vocabulary import Request

if TYPE_CHECKING:
    from harness.slo.model import SLO


class RecoverBound(BaseModel):
    """How long until the error ratio is back under `level` after a fault starts or ends: to
    the end of its last breach of the level (0 without one), followed by 3 samples in a row at
    or under it (`harness.slo.settle.recovery`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    max: float = Field(ge=0, le=limits.MAX_DURATION_S, description="Seconds allowed to recover.")
    fault: int = Field(
        default=0,
        ge=0,
        lt=limits.MAX_FAULTS,
        description="Index of the fault in `faults` (0 = first).",
    )
    from_: Literal["start", "end"] = Field(
        default="start", alias="from", description="Count from the fault's start or its end."
    )
    level: float = Field(
        default=0.01, ge=0, le=1, description="Error ratio that counts as recovered."
    )
    region: Region | None = Field(
        default=None, description="Only the error ratio of users of this home region."
    )
    request: Request | None = Field(
        default=None,
        description="Only this kind of request (e.g. read_user: reads recover before writes, "
        "which wait for a shard's failover).",
    )


@register_objective
class TimeToRecover(Objective):
    key = "time_to_recover_s"
    value = RecoverBound
    description = "Seconds until the error ratio is back under a level."
    range_query = True

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        return recovery_series(slo.value.region, slo.value.request)

    @classmethod
    def bounds(cls, slo: SLO) -> tuple[float | None, float | None]:
        return slo.value.max, None

    @classmethod
    def level(cls, slo: SLO) -> float:
        return float(slo.value.level)
