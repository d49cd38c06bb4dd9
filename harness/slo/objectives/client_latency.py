"""`latency_p50_ms`, `latency_p95_ms`, `latency_p99_ms`: a quantile of client-side latency in
milliseconds, from the load generator's histogram (free of coordinated omission). Three keys,
one shape: each is a subclass naming its quantile."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import Bound
from harness.slo.promql import CLIENT_LATENCY, client_matchers, quantile_ms, selector

if TYPE_CHECKING:
    from harness.slo.model import SLO


class ClientLatency(Objective):
    quantile: ClassVar[float]
    value = Bound

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        bucket = selector(CLIENT_LATENCY, *client_matchers(slo.value))
        return quantile_ms(cls.quantile, bucket, w)


@register_objective
class LatencyP50(ClientLatency):
    key = "latency_p50_ms"
    quantile = 0.5
    description = "Client-side median latency, ms."


@register_objective
class LatencyP95(ClientLatency):
    key = "latency_p95_ms"
    quantile = 0.95
    description = "Client-side p95 latency, ms."


@register_objective
class LatencyP99(ClientLatency):
    key = "latency_p99_ms"
    quantile = 0.99
    description = "Client-side p99 latency, ms."
