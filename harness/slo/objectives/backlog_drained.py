"""`backlog_drained_within_s`: seconds from the last fault's removal (with `fault: N`, from
faults[N]'s) until the queue backlog is empty and stays so. Judged from a range query of the
backlog series, searched by harness.slo.settle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import Limit
from harness.slo.promql import BACKLOG_SERIES

if TYPE_CHECKING:
    from harness.slo.model import SLO


@register_objective
class BacklogDrained(Objective):
    key = "backlog_drained_within_s"
    value = Limit
    description = (
        "Seconds after the last fault (with `fault: N`, after faults[N]) until the queue "
        "backlog is empty."
    )
    range_query = True

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        return BACKLOG_SERIES  # the series itself: the judge searches where it reaches 0
