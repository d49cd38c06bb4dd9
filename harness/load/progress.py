"""Live figures of a running load, read from Locust's per-second history CSV. Pure parsing.

Locust names its stats entries "<home region> <route template>" here (see traffic.stats_name),
so one history file gives the overall figures (its "Aggregated" row) and, by summing a region's
entries, the per-region ones. A region's p95 merges its entries' percentile columns weighted by
their current requests/s: an estimate, exact when one route dominates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from harness.load.traffic import split_stats_name

AGGREGATED = "Aggregated"


@dataclass(frozen=True, kw_only=True)
class RegionProgress:
    rps: float
    failures_pct: float
    p95_ms: float | None


@dataclass(frozen=True, kw_only=True)
class Progress:
    """Figures of the latest complete second of the history (Locust's current window, about
    the last 10 s). `elapsed_s` counts from the first history row; None p95 means no data."""

    elapsed_s: float
    users: int
    rps: float
    failures_pct: float
    p95_ms: float | None
    requests_total: int = 0
    failures_total: int = 0
    regions: dict[str, RegionProgress] = field(default_factory=dict)


def parse_history(head: str, tail: str) -> Progress | None:
    """Progress from the first lines of locust_stats_history.csv (header and first row) and
    its tail (any suffix of the file). None while no complete second is recorded."""
    lines = head.splitlines()
    if len(lines) < 2:
        return None
    header = next(csv.reader([lines[0]]))
    first = dict(zip(header, next(csv.reader([lines[1]])), strict=False))
    if not tail.endswith("\n"):
        tail = tail[: tail.rfind("\n") + 1]  # drop a row still being written
    rows = [dict(zip(header, r, strict=False)) for r in csv.reader(io.StringIO(tail))]
    rows = [r for r in rows if len(r) == len(header) and r["Timestamp"].isdigit()]
    done = [r["Timestamp"] for r in rows if r["Name"] == AGGREGATED]
    if not done:
        return None
    second = [r for r in rows if r["Timestamp"] == done[-1]]
    total = next(r for r in second if r["Name"] == AGGREGATED)
    quantiles = {c: float(c[:-1]) / 100 for c in header if c.endswith("%")}
    return Progress(
        elapsed_s=float(int(total["Timestamp"]) - int(first["Timestamp"])),
        users=int(total["User Count"]),
        rps=_num(total["Requests/s"]),
        failures_pct=_pct(_num(total["Failures/s"]), _num(total["Requests/s"])),
        p95_ms=_opt(total.get("95%", "N/A")),
        requests_total=int(total["Total Request Count"]),
        failures_total=int(total["Total Failure Count"]),
        regions=_regions(second, quantiles),
    )


def _regions(
    rows: Sequence[Mapping[str, str]], quantiles: Mapping[str, float]
) -> dict[str, RegionProgress]:
    grouped: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        parsed = split_stats_name(row["Name"])
        if parsed is not None:
            grouped.setdefault(parsed[0], []).append(row)
    result = {}
    for region, entries in sorted(grouped.items()):
        rps = sum(_num(r["Requests/s"]) for r in entries)
        fails = sum(_num(r["Failures/s"]) for r in entries)
        dists = [(_num(r["Requests/s"]), _quantile_points(r, quantiles)) for r in entries]
        result[region] = RegionProgress(
            rps=rps, failures_pct=_pct(fails, rps), p95_ms=merged_quantile(dists, 0.95)
        )
    return result


def _quantile_points(row: Mapping[str, str], quantiles: Mapping[str, float]) -> dict[float, float]:
    points = {q: _opt(row[c]) for c, q in quantiles.items()}
    return {q: v for q, v in points.items() if v is not None}


def merged_quantile(dists: Sequence[tuple[float, Mapping[float, float]]], q: float) -> float | None:
    """The q-quantile of a mixture of distributions, each given as (weight, {quantile: value}).
    Each one's CDF at x is taken as the largest quantile whose value is <= x (a lower bound),
    so the result errs high by at most one percentile step."""
    dists = [(w, pts) for w, pts in dists if w >= 0 and pts]
    if dists and not any(w > 0 for w, _ in dists):
        dists = [(1.0, pts) for _, pts in dists]  # no current rate yet: weigh entries alike
    weight = sum(w for w, _ in dists)
    if weight <= 0:
        return None
    for x in sorted({v for _, pts in dists for v in pts.values()}):
        below = sum(w * max((k for k, v in pts.items() if v <= x), default=0.0) for w, pts in dists)
        if below / weight >= q - 1e-9:
            return x
    return max(v for _, pts in dists for v in pts.values())


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _opt(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else 0.0
