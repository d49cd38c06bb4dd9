"""Plotly figures (plain dicts) for the report's charts, with fault windows and phases drawn.

x is seconds since the load's start. Every string plotly draws (legend names, annotations)
goes through `plotly_text`: plotly renders a subset of HTML in them, so a label value like
`<a href=...>` would otherwise become a link in the chart.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from harness.record import FaultRecord, RunRecord, Series
from harness.report._common import time_zero
from harness.slo.charts import CHARTS, ChartDef
from harness.vocabulary import REGIONS

FAULT_FILL = "rgba(220, 53, 69, 0.13)"
PHASE_LINE = "rgba(80, 80, 80, 0.55)"
# A lane chart's bars take their region's colour, so "primary in us-east" reads the same in
# every lane.
REGION_COLOURS = dict(zip(REGIONS, ("#1f77b4", "#ff7f0e"), strict=False))
LANE_SPREAD = 0.3  # how far apart the regions' bars sit in a lane (a lane is 1 high)


@dataclass(frozen=True, kw_only=True)
class Chart:
    """One chart of the report: its figure, or None when there is nothing to draw."""

    dom_id: str
    title: str
    unit: str
    figure: dict[str, Any] | None
    note: str = ""


def plotly_text(text: str) -> str:
    return html.escape(text, quote=False)


def legend_name(series: Series, chart: ChartDef) -> str:
    """The collector's `legend` label if it set one, else the chart's label template."""
    if "legend" in series.labels:
        return series.labels["legend"]
    for _, template in chart.queries:
        try:
            return template.format(**series.labels)
        except (KeyError, IndexError, ValueError):
            continue
    return ", ".join(f"{k}={v}" for k, v in sorted(series.labels.items())) or chart.title


def _value(v: float | None) -> float | None:
    """6 significant digits; NaN (0/0 in PromQL) or a missing value becomes a gap (null)."""
    return float(f"{v:.6g}") if v is not None and math.isfinite(v) else None


def with_gaps(points: list[tuple[float, float | None]]) -> list[tuple[float, float | None]]:
    """The points with a null one inserted where samples are missing (more than 1.5 steps
    apart; the step is the series' shortest), so a line never bridges a time Prometheus had
    no sample for: a node down, or no standby to report a lag."""
    steps = [b[0] - a[0] for a, b in pairwise(points) if b[0] > a[0]]
    step = min(steps, default=1.0)
    result: list[tuple[float, float | None]] = []
    for i, (t, v) in enumerate(points):
        if i and t - points[i - 1][0] > 1.5 * step:
            result.append(((t + points[i - 1][0]) / 2, None))
        result.append((t, v))
    return result


def _trace(series: Series, chart: ChartDef, t0: float) -> dict[str, Any]:
    points = with_gaps(series.points)
    return {
        "type": "scatter",
        "mode": "lines",
        "name": plotly_text(legend_name(series, chart)),
        "x": [round(t - t0, 3) for t, _ in points],
        "y": [_value(v) for _, v in points],
        "hovertemplate": f"%{{y:.4g}} {plotly_text(chart.unit)} at %{{x:.0f}} s",
    }


def _lane_names(lines: list[Series], label: str) -> list[str]:
    """The lanes' label values in order (numbers as numbers: shard 2 before shard 10)."""
    values = {s.labels.get(label, "") for s in lines}
    return sorted(values, key=lambda v: (0, int(v), v) if v.isdigit() else (1, 0, v))


def _lane_trace(series: Series, chart: ChartDef, t0: float, lane: int) -> dict[str, Any]:
    """An on/off line as a bar in its lane, drawn only while it is on; each region's bars
    sit at their own height in the lane, so two at once (two primaries) are both seen."""
    region = series.labels.get("region", "")
    index = REGIONS.index(region) if region in REGIONS else (len(REGIONS) - 1) / 2
    y = round(lane + (index - (len(REGIONS) - 1) / 2) * LANE_SPREAD, 3)
    points = with_gaps(series.points)  # on (1), off (0), unknown: NaN, null or missing
    name = plotly_text(legend_name(series, chart))
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": [round(t - t0, 3) for t, _ in points],
        "y": [y if v is not None and math.isfinite(v) and v >= 0.5 else None for _, v in points],
        "line": {"width": 9},
        "legendgroup": plotly_text(region),
        "hovertemplate": f"{name} at %{{x:.0f}} s<extra></extra>",
    }
    if region in REGION_COLOURS:
        trace["line"]["color"] = REGION_COLOURS[region]
    return trace


def _lane_axis(lanes: list[str], label: str) -> dict[str, Any]:
    """The y axis of a lane chart: a named row per lane, the first on top."""
    return {
        "tickmode": "array",
        "tickvals": list(range(len(lanes))),
        "ticktext": [plotly_text(f"{label} {lane}".strip()) for lane in lanes],
        "range": [len(lanes) - 0.5, -0.5],
        "rangemode": "normal",
        "title": {"text": ""},
    }


def _lane_layout(
    chart: ChartDef, shapes: list[Any], notes: list[Any], lanes: list[str], traces: list[Any]
) -> dict[str, Any]:
    """A lane chart's layout: a row per lane, and room below the axis title for its legend
    (an entry per lane and region, a row of entries per lane)."""
    assert chart.lanes is not None
    layout = _layout(chart, shapes, notes)
    plot_px = 40 + 40 * len(lanes)
    rows = math.ceil(len(traces) / max(1, len(REGIONS)))
    layout["margin"] = {**layout["margin"], "b": 70 + 20 * rows}
    layout["height"] = layout["margin"]["t"] + plot_px + layout["margin"]["b"]
    layout["legend"] = {"orientation": "h", "y": -58 / plot_px}
    layout["yaxis"] = {**layout["yaxis"], **_lane_axis(lanes, chart.lanes)}
    layout["hovermode"] = "closest"  # a bar's own name, not every lane at that second
    return layout


def _fault_end(fault: FaultRecord, record: RunRecord) -> float:
    assert fault.window_start is not None
    if fault.removed_at is not None:
        return fault.removed_at
    planned = fault.window_start + (fault.planned_end_s - fault.planned_start_s)
    return record.load_ended_at or record.ended_at or planned


def _marks(record: RunRecord, t0: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Shapes and annotations shared by every chart: fault windows, then phase boundaries."""
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for fault in record.faults:
        start = fault.window_start  # the band is the fault's window: first effect to removed
        if start is None:
            continue  # never applied: nothing happened to shade
        x0, x1 = start - t0, _fault_end(fault, record) - t0
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": x0,
                "x1": x1,
                "y0": 0,
                "y1": 1,
                "fillcolor": FAULT_FILL,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        notes.append(
            {
                "xref": "x",
                "yref": "paper",
                "x": (x0 + x1) / 2,
                "y": 1,
                "yanchor": "top",
                "showarrow": False,
                "font": {"size": 11, "color": "#a4202f"},
                "text": plotly_text(f"{fault.type} {fault.target}"),
            }
        )
    bounds = sorted({p.start for p in record.phases} | {p.end for p in record.phases})
    for t in bounds:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": t - t0,
                "x1": t - t0,
                "y0": 0,
                "y1": 1,
                "line": {"color": PHASE_LINE, "width": 1, "dash": "dot"},
            }
        )
    # One label per whole-run phase; the per-fault windows (`fault[1]`) share the fault's band.
    for phase in (p for p in record.phases if "[" not in p.name):
        notes.append(
            {
                "xref": "x",
                "yref": "paper",
                "x": (phase.start + phase.end) / 2 - t0,
                "y": 1,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11, "color": "#555"},
                "text": plotly_text(phase.name),
            }
        )
    return shapes, notes


def _layout(chart: ChartDef, shapes: list[Any], notes: list[Any]) -> dict[str, Any]:
    axis = {"gridcolor": "#eceff3", "zeroline": False, "linecolor": "#c8ccd2"}
    return {
        "height": 336,
        "margin": {"l": 60, "r": 20, "t": 44, "b": 70},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "xaxis": {**axis, "title": {"text": "seconds since load start"}},
        "yaxis": {**axis, "title": {"text": plotly_text(chart.unit)}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.25},
        "hovermode": "x unified",
        "shapes": shapes,
        "annotations": notes,
    }


def charts(record: RunRecord) -> list[Chart]:
    """Every chart of CHARTS, in order; `figure` is None for a chart with no data points."""
    t0 = time_zero(record)
    shapes, notes = _marks(record, t0)
    result = []
    for i, chart in enumerate(CHARTS):
        lines = [s for s in record.series.get(chart.key, []) if s.points]
        figure = None
        if lines and chart.lanes is not None:
            lanes = _lane_names(lines, chart.lanes)
            traces = [
                _lane_trace(s, chart, t0, lanes.index(s.labels.get(chart.lanes, ""))) for s in lines
            ]
            figure = {"data": traces, "layout": _lane_layout(chart, shapes, notes, lanes, traces)}
        elif lines:
            traces = [_trace(s, chart, t0) for s in lines]
            figure = {"data": traces, "layout": _layout(chart, shapes, notes)}
        result.append(
            Chart(
                dom_id=f"chart-{i}",
                title=chart.title,
                unit=chart.unit,
                figure=figure,
                note=chart.note,
            )
        )
    return result
