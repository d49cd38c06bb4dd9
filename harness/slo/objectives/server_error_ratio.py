"""`server_error_ratio`: the 5xx ratio of the regions' entries (HAProxy) or of the web tier."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import TierBound
from harness.slo.promql import ENTRY_FRONTEND, ratio, selector

if TYPE_CHECKING:
    from harness.slo.model import SLO


class ErrorTierBound(TierBound):
    """Bounds on the server-side error ratio of the entries or the web tier."""

    tier: Literal["entry", "web"] = Field(description="The tier measured.")


@register_objective
class ServerErrorRatio(Objective):
    key = "server_error_ratio"
    value = ErrorTierBound
    description = "5xx ratio of a tier."

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        if slo.value.tier == "entry":
            return ratio(
                selector("haproxy_frontend_http_responses_total", ENTRY_FRONTEND, 'code="5xx"'),
                selector("haproxy_frontend_http_requests_total", ENTRY_FRONTEND),
                w,
            )
        return ratio('web_requests_total{status=~"5.."}', "web_requests_total", w)
