"""The report's chart data: every chart of `harness.slo.charts` as range series over the run.

A chart whose query fails or returns nothing gets an empty list (the report says "no data");
one broken chart never stops the run or the other charts.
"""

from __future__ import annotations

import logging
import string

from harness.errors import HarnessError
from harness.record import Series
from harness.slo.charts import CHARTS, ChartDef
from harness.slo.query import PromQuery

log = logging.getLogger(__name__)


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def legend(template: str, labels: dict[str, str]) -> str:
    """The legend text of one line: the template filled from its labels (missing ones blank)."""
    try:
        return string.Formatter().vformat(template, (), _Blank(labels)).strip() or template
    except (ValueError, IndexError):
        return template


def collect_series(
    prom: PromQuery,
    start: float,
    end: float,
    step_s: float = 1.0,
    charts: tuple[ChartDef, ...] = CHARTS,
) -> dict[str, list[Series]]:
    """{chart key: its lines}, each line labelled `{"legend": ..., **series labels}`."""
    collected: dict[str, list[Series]] = {}
    for chart in charts:
        lines: list[Series] = []
        for promql, template in chart.queries:
            try:
                found = prom.range(promql, start, end, step_s)
            except HarnessError as exc:
                log.warning("chart %s: %s", chart.key, exc.message)
                continue
            for series in found:
                labels = {**series.labels, "legend": legend(template, series.labels)}
                lines.append(Series(labels=labels, points=series.points))
        collected[chart.key] = lines
    return collected
