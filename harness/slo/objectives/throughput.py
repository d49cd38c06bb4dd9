"""`throughput_min_rps`: client requests per second answered as expected over the window (all,
or one home region and/or one kind of request); usually a `min`, to show users were served.

Successful requests only (goodput): a region whose entry answers every request with an
instant 503 sends more requests per second than a healthy one, and serves nobody."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import Bound
from harness.slo.promql import CLIENT_REQUESTS, client_matchers, selector

if TYPE_CHECKING:
    from harness.slo.model import SLO


@register_objective
class Throughput(Objective):
    key = "throughput_min_rps"
    value = Bound
    description = "Client requests per second answered as expected (failures not counted)."

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        served = selector(CLIENT_REQUESTS, *client_matchers(slo.value), 'result="ok"')
        return f"sum(increase({served}[{w}])) / {seconds}"
