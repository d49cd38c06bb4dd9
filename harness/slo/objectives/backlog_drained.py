"""`backlog_drained_within_s`: seconds from the last fault's removal (with `fault: N`, from
faults[N]'s) until the queue backlog is at or under `level` (0: empty) and stays so for 3
samples. Judged from a range query of the backlog series, searched by harness.slo.settle.

Why a level: under live load a healthy queue is seldom empty at a scrape. consumer-death
submits about 9 jobs/s, and its drained backlog read 0, 0, 1, 0, 1, 1, 0, 1 for 8 s: the
jobs that had just arrived. With level 0 that healthy run failed for want of three zeros in a
row; `level: 2` says "no more waiting than a few jobs just arrived"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import Limit
from harness.slo.promql import BACKLOG_SERIES

if TYPE_CHECKING:
    from harness.slo.model import SLO


class DrainBound(Limit):
    """How long until the backlog is back at or under `level` jobs."""

    level: int = Field(
        default=0,
        ge=0,
        le=1_000_000,
        description="Jobs not yet delivered that count as drained (0: empty). Under live load "
        "a few jobs have always just arrived.",
    )


@register_objective
class BacklogDrained(Objective):
    key = "backlog_drained_within_s"
    value = DrainBound
    description = (
        "Seconds after the last fault (with `fault: N`, after faults[N]) until the queue "
        "backlog is back at or under `level` (default 0: empty)."
    )
    range_query = True

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        return BACKLOG_SERIES  # the series itself: the judge searches where it reaches 0
