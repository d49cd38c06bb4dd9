"""Every SLO's query asked of Prometheus before the load starts (pure over `PromQuery`).

`validate` parses each `promql:` objective, but only Prometheus knows what it accepts (a
function it lacks, a type error such as `rate()` of an instant vector): a query it refuses
would otherwise be found at the end of the run, after minutes of load, as an ERROR verdict.
Here each SLO's query, as it will be sent for a short window, is evaluated once; a refusal
is a scenario error (exit 2) naming the SLO, and nothing has been started that judging needs.
An objective read from the ledger (`source = "ledger"`) has no query to ask.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import QueryRejected, UsageError
from harness.ports import PromQuery
from harness.slo.model import SLO
from harness.slo.promql import expand

SAMPLE_WINDOW_S = 10.0  # any window will do: the query's shape is what is checked


def check_queries(slos: Sequence[SLO], prom: PromQuery, *, at: float, source: str) -> None:
    """UsageError naming every SLO whose query Prometheus refuses; InfraError (unreachable)
    propagates as it is."""
    refused: list[str] = []
    for index, slo in enumerate(slos):
        if slo.kind.source != "prometheus":
            continue
        promql = expand(slo, SAMPLE_WINDOW_S)
        try:
            prom.instant(promql, at)
        except QueryRejected as exc:
            refused.append(f"  {source}: slos[{index}] {slo.name!r}: {exc.reason} in {promql!r}")
    if refused:
        raise UsageError(
            f"Prometheus refuses the queries of {len(refused)} SLO(s); nothing was judged",
            hint="fix the promql (Prometheus's own words are above each query) and run again",
            detail="\n".join(refused),
        )
