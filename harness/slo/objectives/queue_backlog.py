"""`queue_backlog_max`: the most jobs waiting in the photo queue during the window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import Limit
from harness.slo.promql import BACKLOG_SERIES

if TYPE_CHECKING:
    from harness.slo.model import SLO


@register_objective
class QueueBacklog(Objective):
    key = "queue_backlog_max"
    value = Limit
    description = "Jobs waiting in the queue."

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        return f"max_over_time({BACKLOG_SERIES}[{w}:1s])"
