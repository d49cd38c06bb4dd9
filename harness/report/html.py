"""report.html: one self-contained page per run (inline CSS, plotly.js inlined once, gzipped).

The page opens offline: nothing is fetched, no server is needed. Strings from the scenario,
logs, labels and errors are escaped by jinja's autoescape; the chart data is embedded as JSON
that cannot close its <script> element (`script_json`).
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from harness.record import RunRecord
from harness.report import _common as c
from harness.report.figures import charts
from harness.report.summary import bound_text, failure_lines, run_lines

MAX_LOG_LINES = 500  # per container; the full logs are in the run directory
MAX_LOST_EXAMPLES = 20


@dataclass(frozen=True, kw_only=True)
class Row:
    """A pre-formatted table row (events, steps) so the template stays free of arithmetic."""

    cells: tuple[str, ...]


@cache
def plotly_js_packed() -> str:
    """plotly.js gzipped and base64-encoded, to inline: 4.8 MB becomes about 2.3 MB, which keeps
    a long run's report well under 5 MB (plotly.js alone was 96% of it). Level 1 takes 60 ms
    here against 0.5 s for level 9, for 15% more bytes, and runs once per process. The page
    unpacks it with the browser's DecompressionStream before drawing. Base64 has no `<`, so
    nothing in it can close the script element; mtime=0 keeps the output stable."""
    packed = gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=1, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def scenario_text(record: RunRecord) -> str:
    try:
        return yaml.safe_dump(record.scenario, sort_keys=False, allow_unicode=True, width=96)
    except yaml.YAMLError:  # a value YAML cannot represent: still show the scenario
        return json.dumps(record.scenario, indent=2, default=str)


def _offset(t: float, t0: float) -> str:
    return f"{t - t0:+.1f} s"


def _events(record: RunRecord) -> list[Row]:
    t0 = c.time_zero(record)
    rows = sorted(record.events, key=lambda e: e.t)
    return [Row(cells=(_offset(e.t, t0), e.kind, e.message)) for e in rows]


def _at(t: float | None, t0: float) -> str:
    return "-" if t is None else _offset(t, t0)


def _faults(record: RunRecord) -> list[Row]:
    """Each fault's plan against what happened: its window runs from the first effect to the
    removal's end (the apply and the removal each take time), and what it changed."""
    t0 = c.time_zero(record)
    return [
        Row(
            cells=(
                f"{f.index}",
                f"{f.type} on {f.target}",
                f"+{f.planned_start_s:g} s to +{f.planned_end_s:g} s",
                _at(f.first_effect_at, t0),
                _at(f.applied_at, t0),
                _at(f.removal_started_at, t0),
                _at(f.removed_at, t0),
                ", ".join(f"{k} {v}" for k, v in f.effects.items()) or "-",
                f.status + (f": {f.error}" if f.error else ""),
            )
        )
        for f in record.faults
    ]


def _steps(record: RunRecord) -> list[Row]:
    return [
        Row(cells=(s.name, c.duration(s.started_at, s.ended_at), s.status, s.error or ""))
        for s in record.steps
    ]


def _environment(record: RunRecord) -> list[tuple[str, Any]]:
    stack = record.stack
    return [
        ("harness version", record.harness_version),
        ("run id", record.run_id),
        ("stack", stack.get("name", "-")),
        ("seed", record.seed),
        ("started", c.utc_time(record.started_at)),
        ("ended", c.utc_time(record.ended_at)),
        ("duration", c.duration(record.started_at, record.ended_at)),
        ("load", f"{c.utc_time(record.load_started_at)} to {c.utc_time(record.load_ended_at)}"),
        ("load model", c.load_model(record)),
        ("record version", record.version),
    ]


def render_html(record: RunRecord) -> str:
    """The run's report.html as a string; the caller writes it."""
    figures = charts(record)
    chart_data = {ch.dom_id: ch.figure for ch in figures if ch.figure is not None}
    template = c.environment().get_template("report.html.j2")
    return template.render(
        r=record,
        status=c.run_label(record),
        failures=failure_lines(record) + run_lines(record),
        scenario_text=scenario_text(record),
        load_model=c.load_model(record),
        charts=figures,
        chart_json=Markup(c.script_json(chart_data)),
        plotly_gz=plotly_js_packed() if chart_data else "",
        slos=[(s, bound_text(s.max, s.min)) for s in record.slos],
        max_lost=MAX_LOST_EXAMPLES,
        max_log_lines=MAX_LOG_LINES,
        events=_events(record),
        steps=_steps(record),
        faults=_faults(record),
        environment=_environment(record),
        stack_details={k: v for k, v in record.stack.items() if k != "name"},
    )
