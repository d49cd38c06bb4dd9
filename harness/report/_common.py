"""Formatting shared by the renderers: times, numbers, verdict labels, the jinja environment."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jinja2

from harness.record import RunRecord

STATUS_LABELS = {
    "passed": "PASSED",
    "failed": "FAILED",
    "error": "ERROR",
    "interrupted": "INTERRUPTED",
    "running": "INCOMPLETE",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.upper())


def run_label(record: RunRecord) -> str:
    """The verdict as shown: NOT JUDGED for a run that did not happen as planned (it is an
    error, exit 3, but says why no check counts), else the status's label."""
    if record.deviation is not None:
        return "NOT JUDGED"
    return status_label(record.status)


def utc_time(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "-"
    seconds = max(0.0, end - start)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def number(value: float | None) -> str:
    return "no data" if value is None else f"{value:.4g}"


def plain(value: float) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _is_table_rows(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def time_zero(record: RunRecord) -> float:
    """The origin of every offset in the report: the load's start, else the run's."""
    return record.load_started_at if record.load_started_at is not None else record.started_at


def script_json(value: Any) -> str:
    """JSON that cannot close or comment out the <script> element it is embedded in."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,  # every scenario, log and label string is escaped by default
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc_time
    env.filters["num"] = number
    env.filters["status_label"] = status_label
    env.filters["plain"] = plain
    env.tests["table_rows"] = _is_table_rows
    return env


def load_model(record: RunRecord) -> str:
    """Which load model ran, in one line: a closed model's latency hides what a stall delays
    (coordinated omission), an open model's does not, so a reader must know which it was."""
    load = record.scenario.get("load") or {}
    timeout = load.get("request_timeout")
    tail = f"; requests time out after {timeout} s" if timeout is not None else ""
    if load.get("model") == "open":
        in_flight = load.get("max_in_flight")
        cap = f", at most {in_flight} in flight" if in_flight else ""
        return (
            f"open model: {load.get('rate')} iterations/s whatever the answers{cap}; latency "
            f"from each request's intended send time{tail}"
        )
    return (
        f"closed model: {load.get('users')} users, each waits for its answer before the next "
        f"request (latency from the actual send){tail}"
    )
