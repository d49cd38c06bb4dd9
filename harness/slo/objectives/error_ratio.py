"""`error_ratio`: failed / all client requests over the window (all users, or one home region
and/or one kind of request)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import Bound
from harness.slo.promql import client_error_ratio, client_matchers

if TYPE_CHECKING:
    from harness.slo.model import SLO


@register_objective
class ErrorRatio(Objective):
    key = "error_ratio"
    value = Bound
    description = "Failed / all client requests."

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        return client_error_ratio(w, *client_matchers(slo.value))
