"""`server_latency_p95_ms`: p95 latency of a tier as the stack measures it (the web tier's
histogram; for the shard tier, the web tier's timing of its queries, of one shard if given).

HAProxy 2.6's exporter has no latency histogram: the entries' "p95" is the worst of HAProxy's
own running average of total request time (`haproxy_backend_total_time_average_seconds`, over
its last 1024 requests) seen during the window, an approximation that the query itself shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import TierBound
from harness.slo.promql import ENTRY_BACKENDS, quantile_ms, selector

if TYPE_CHECKING:
    from harness.slo.model import SLO


@register_objective
class ServerLatency(Objective):
    key = "server_latency_p95_ms"
    value = TierBound
    description = "p95 latency of a tier."

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        bound: TierBound = slo.value
        if bound.tier == "entry":
            average = selector("haproxy_backend_total_time_average_seconds", ENTRY_BACKENDS)
            return f"1000 * max(max_over_time({average}[{w}]))"
        if bound.tier == "shard":
            shard = f'shard="{bound.shard}"' if bound.shard is not None else ""
            return quantile_ms(0.95, selector("web_db_seconds_bucket", shard), w)
        return quantile_ms(0.95, "web_request_seconds_bucket", w)
