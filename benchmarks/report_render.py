"""Render time and size of report.html for a 10-minute run (targets: under 1 s, under 5 MB).

The record is built here, shaped like the results.json of a real run at the resolution a run
stores: every chart of harness.slo.charts at 1 s steps over the load +/- 5 s (as the orchestrator
collects them), values at full float precision as Prometheus returns them, three faults with
their events, four phases, seven SLOs, two invariants, Locust's summary, container log errors.
The render is `harness.report.html.render_html`, the function `harness report DIR` calls:

- cold: the first render in a fresh process (plotly.js read and gzipped, templates compiled),
  what one `harness report` pays; median over --cold-rounds processes;
- warm: the median of --rounds further renders in this process, the renderer's own cost.

Baseline, measured in the same run: serialising the same record to results.json
(`model_dump_json(indent=2)`, as save_record does), the floor of touching all the data. A
1-minute run is rendered too, to show how the time and size scale.

    .venv/bin/python benchmarks/report_render.py [--rounds 7] [--cold-rounds 3] [--keep DIR]

Nothing leaves the machine; --keep DIR writes both reports there to open them.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import load_average, machine_line, median, timed, verdict

from harness.record import (
    Event,
    FaultRecord,
    InvariantResult,
    PhaseWindow,
    RunRecord,
    Series,
    SloResult,
    Step,
)
from harness.report.html import plotly_js_packed, render_html
from harness.slo.charts import CHARTS

TARGET_S = 1.0
TARGET_BYTES = 5_000_000  # 5 MB, decimal
T0 = 1_795_776_233.3281791  # the load's start; Prometheus answers at whole seconds
COLD_TIMEOUT_S = 120.0
REGIONS = ("us-east", "us-west")
Point = tuple[float, float | None]
WHOLE = {"backlog", "pending", "workers"}
CHART_DATA = re.compile(r'<script id="chart-data" type="application/json">(.*?)</script>', re.S)
ROUTES = ("GET /users/{id}", "POST /users", "POST /users/{id}/photos", "GET /jobs/{id}")


@dataclass(frozen=True, kw_only=True)
class Plan:
    """When the three faults of the built run happen, in seconds from the load's start."""

    duration_s: float

    def window(self, n: int) -> tuple[float, float]:
        """Fault n (0..2): at 20 %, 50 %, 70 % of the run, each 20 % / 10 % / 10 % long."""
        start, length = ((0.2, 0.2), (0.5, 0.1), (0.7, 0.1))[n]
        return self.duration_s * start, self.duration_s * (start + length)


FAULTS = (
    ("region_outage", "us-east"),
    ("latency", "shard2-us-west"),
    ("consumer_death", "us-west"),
)


def _line(labels: dict[str, str], points: list[Point]) -> Series:
    return Series(labels=labels, points=points)


def _curve(plan: Plan, rng: random.Random, shape: str, region: str) -> list[Point]:
    """One chart line at 1 s steps from 5 s before the load to 5 s after, with noise."""
    outage = plan.window(0)
    points: list[Point] = []
    for k in range(-5, int(plan.duration_s) + 6):
        down = outage[0] <= k < outage[1]
        east = region == "us-east"
        base = {
            "rps": (70.0 if east else 30.0),
            "served": (0.0 if east else 100.0) if down else (70.0 if east else 30.0),
            "errors": 0.3 if down and east and k < outage[0] + 8 else 0.002,
            "p95": (480.0 if down else 120.0) + (20.0 if east else 0.0),
            "backlog": 40.0 if down else 3.0,
            "pending": 12.0 if down else 2.0,
            "workers": 0.0 if down and east else 2.0,
            "shard": 8.0 + (k % 10) / 2,
        }[shape]
        value = base * (1 + rng.gauss(0, 0.05)) if base else 0.0
        if shape in WHOLE:  # counts (jobs, workers) are whole numbers
            value = float(round(value))
        points.append((float(math.floor(T0) + k), value))
    return points


def _series(plan: Plan, rng: random.Random) -> dict[str, list[Series]]:
    def by_region(shape: str, key: str = "region", fmt: str = "{}") -> list[Series]:
        return [
            _line({key: r, "legend": fmt.format(r)}, _curve(plan, rng, shape, r)) for r in REGIONS
        ]

    series = {
        "requests_by_region": by_region("rps"),
        "served_by_region": by_region("served", "served_region", "served by {}"),
        "error_ratio": by_region("errors"),
        "latency_p95": by_region("p95"),
        "queue": [
            _line({"legend": "backlog (not yet delivered)"}, _curve(plan, rng, "backlog", "")),
            _line(
                {"legend": "pending (delivered, not acknowledged)"},
                _curve(plan, rng, "pending", ""),
            ),
        ],
        "live_workers": by_region("workers"),
        "shard_latency": [
            _line({"shard": str(n), "legend": f"shard {n}"}, _curve(plan, rng, "shard", ""))
            for n in range(4)
        ],
        "faults_active": [
            _line(
                {"fault": kind, "target": target, "legend": f"{kind} {target}"},
                [(float(math.floor(T0) + k), 1.0) for k in range(int(a), int(b) + 1)],
            )
            for (kind, target), (a, b) in zip(FAULTS, map(plan.window, range(3)), strict=True)
        ],
    }
    for line in series["error_ratio"]:  # no traffic yet: 0/0 is NaN, stored as a gap
        line.points[:6] = [(t, None) for t, _ in line.points[:6]]
    assert set(series) == {c.key for c in CHARTS}
    return series


def _faults_and_events(plan: Plan) -> tuple[list[FaultRecord], list[Event]]:
    faults, events = [], [Event(t=T0, kind="load_started", message="100 users, run")]
    kinds = ("links_disabled", "toxic_added", "container_killed")
    for n, ((kind, target), detail) in enumerate(zip(FAULTS, kinds, strict=True)):
        start, end = plan.window(n)
        applied, removed = T0 + start + 0.31, T0 + end + 0.27
        faults.append(
            FaultRecord(
                index=n,
                type=kind,
                target=target,
                planned_start_s=start,
                planned_end_s=end,
                applied_at=applied,
                removed_at=removed,
                status="removed",
            )
        )
        events += [
            Event(t=applied - 0.2, kind=detail, message=f"{kind} on {target}: details", fault=n),
            Event(t=applied, kind="fault_applied", message=f"{kind} on {target}", fault=n),
            Event(t=removed, kind="fault_removed", message=f"{kind} on {target}", fault=n),
        ]
    events.append(Event(t=T0 + plan.duration_s, kind="load_ended", message="load finished"))
    return faults, events


def _slos(plan: Plan) -> list[SloResult]:
    fault_start, fault_end = T0 + plan.window(0)[0] + 0.31, T0 + plan.window(2)[1] + 0.27
    windows = {
        "steady": (T0, fault_start),
        "fault": (fault_start, fault_end),
        "recovery": (fault_end, T0 + plan.duration_s),
        "run": (T0, T0 + plan.duration_s),
    }
    rows = [
        ("errors while us-east is down", "fault", "error_ratio", 0.071, 0.05, "fail"),
        ("steady p95", "steady", "latency_p95_ms", 131.52, 300.0, "pass"),
        ("recovery p95", "recovery", "latency_p95_ms", 142.9, 300.0, "pass"),
        ("run error ratio", "run", "error_ratio", 0.0123, 0.02, "pass"),
        ("backlog bounded", "fault", "queue_backlog_max", 48.0, 2000.0, "pass"),
        ("server errors", "run", "server_error_ratio", 0.004, 0.01, "pass"),
        ("custom", "recovery", "promql", None, 10.0, "error"),
    ]
    return [
        SloResult(
            name=name,
            phase=phase,
            objective=objective,
            promql=f'sum(rate(harness_client_requests_total{{phase="{phase}"}}[60s]))',
            window_start=windows[phase][0],
            window_end=windows[phase][1],
            observed=observed,
            max=bound,
            verdict=v,  # type: ignore[arg-type]
            error="query returned no data: check the metric name" if v == "error" else None,
        )
        for name, phase, objective, observed, bound, v in rows
    ]


def _log_errors(rng: random.Random) -> dict[str, list[str]]:
    """As save_container_logs keeps them: at most 40 error lines per container."""
    line = (
        "2026-11-27T10:43:46.{:09d}Z [WARNING] (11) : Server us-east/web is DOWN, reason: "
        'Layer4 connection problem, info: "Connection refused", check duration: 0ms.'
    )
    counts = {"entry-us-east": 12, "toxiproxy": 40, "web-us-east-1": 40, "worker-us-west-1": 9}
    return {c: [line.format(rng.randrange(10**9)) for _ in range(n)] for c, n in counts.items()}


def build_record(duration_s: float, seed: int = 7) -> RunRecord:
    """A finished, failed 3-fault run of `duration_s` seconds of load."""
    plan, rng = Plan(duration_s=duration_s), random.Random(seed)
    faults, events = _faults_and_events(plan)
    fault_start, fault_end = faults[0].applied_at or T0, faults[-1].removed_at or T0
    end = T0 + duration_s
    summary = {
        f"{route.split()[0]} {region} {route.split()[1]}": {
            "Request Count": 9000.0,
            "Failure Count": 12.0,
            "Requests/s": 15.003 * (1 + n),
            "Median Response Time": 37.0,
            "95%": 350.0,
            "99%": 660.0,
            "Max Response Time": 711.8233369999416,
        }
        for region in REGIONS
        for n, route in enumerate(ROUTES)
    }
    steps = [
        "connect to Docker",
        "stack up",
        "safety reset",
        "register metrics",
        "load and faults",
        "judge",
        "invariants",
        "collect series",
        "container logs",
        "remove faults",
        "stack down",
    ]
    return RunRecord(
        run_id=f"20261127T104341Z-region-outage-{int(duration_s)}s",
        harness_version="0.1.0",
        scenario_name="region-outage",
        scenario_file="scenarios/region-outage.yaml",
        scenario={
            "name": "region-outage",
            "load": {"users": 100, "duration": duration_s},
            "faults": [{"type": k, "target": t} for k, t in FAULTS],
        },
        seed=7,
        status="failed",
        exit_code=1,
        started_at=T0 - 12.3,
        ended_at=end + 40.0,
        load_started_at=T0,
        load_ended_at=end,
        stack={
            "name": "default",
            "owned_by_run": True,
            "endpoints": {"entries": {"us-east": "http://127.0.1.1:32851"}},
            "images": {
                i: f"sha256:{rng.getrandbits(256):064x}"
                for i in ("entry", "dns", "web", "worker", "queue", "shard", "prometheus")
            },
        },
        phases=[
            PhaseWindow(name="run", start=T0, end=end),
            PhaseWindow(name="steady", start=T0, end=fault_start),
            PhaseWindow(name="fault", start=fault_start, end=fault_end),
            PhaseWindow(name="recovery", start=fault_end, end=end),
        ],
        steps=[Step(name=s, started_at=T0 + i, ended_at=T0 + i + 0.5) for i, s in enumerate(steps)],
        faults=faults,
        events=events,
        slos=_slos(plan),
        invariants=[
            InvariantResult(name="no_lost_writes", verdict="pass", acknowledged=8123, found=8123),
            InvariantResult(
                name="no_lost_jobs",
                verdict="fail",
                acknowledged=5420,
                found=5400,
                lost=20,
                detail="20 not done after the 15 s drain timeout",
                lost_examples=[f"job {n}-{rng.getrandbits(64):016x} (queued)" for n in range(20)],
            ),
        ],
        load_summary=summary,
        series=_series(plan, rng),
        log_errors=_log_errors(rng),
    )


@dataclass(frozen=True, kw_only=True)
class Figures:
    points: int
    json_bytes: int
    html_bytes: int
    chart_bytes: int  # the charts' JSON inside report.html
    serialise_s: float
    warm_s: float
    cold_s: float


def cold_render_s(record: RunRecord, rounds: int) -> float:
    """Median over `rounds` fresh processes of their first render_html (record read before)."""
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        path = Path(tmp) / "results.json"
        path.write_text(record.model_dump_json(indent=2))
        times = []
        for _ in range(rounds):
            out = subprocess.run(
                [sys.executable, __file__, "--cold-child", str(path)],
                check=True,
                capture_output=True,
                text=True,
                timeout=COLD_TIMEOUT_S,
            )
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return median(times)


def cold_child(path: Path) -> None:
    record = RunRecord.model_validate_json(path.read_text())
    start = time.perf_counter()
    render_html(record)
    print(time.perf_counter() - start)


def measure(record: RunRecord, rounds: int, cold_rounds: int) -> Figures:
    page = render_html(record)  # fills the caches: the warm figure is the renderer alone
    text = record.model_dump_json(indent=2)
    return Figures(
        points=sum(len(s.points) for lines in record.series.values() for s in lines),
        json_bytes=len(text.encode()),
        html_bytes=len(page.encode()),
        chart_bytes=len(m.group(1).encode()) if (m := CHART_DATA.search(page)) else 0,
        serialise_s=median(timed(lambda: record.model_dump_json(indent=2), rounds)),
        warm_s=median(timed(lambda: render_html(record), rounds)),
        cold_s=cold_render_s(record, cold_rounds),
    )


def show(name: str, f: Figures, plotly_bytes: int) -> None:
    rest = f.html_bytes - plotly_bytes - f.chart_bytes
    print(f"{name}: {f.points} chart points, results.json {f.json_bytes / 1e3:.0f} kB")
    print(f"  baseline, serialise to results.json (median): {f.serialise_s * 1e3:7.1f} ms")
    for label, seconds in (("warm", f.warm_s), ("cold", f.cold_s)):
        print(
            f"  render, {label} (median): {seconds * 1e3:7.1f} ms = "
            f"{seconds / f.serialise_s:5.1f} x baseline"
        )
    print(
        f"  report.html: {f.html_bytes:,} bytes ({f.html_bytes / 1e6:.2f} MB, "
        f"{f.html_bytes / 2**20:.2f} MiB) = plotly.js (gzip, base64) {plotly_bytes / 1e3:,.0f} kB "
        f"+ chart data {f.chart_bytes / 1e3:,.0f} kB + the rest {rest / 1e3:,.0f} kB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="warm renders and serialisations")
    parser.add_argument("--cold-rounds", type=int, default=3, help="fresh processes")
    parser.add_argument("--keep", type=Path, help="write the two reports into this folder")
    parser.add_argument("--cold-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_child:
        cold_child(args.cold_child)
        return 0
    if args.rounds < 1 or args.cold_rounds < 1:
        parser.error("--rounds and --cold-rounds must be >= 1")
    print(machine_line(), flush=True)
    long, short = build_record(600.0), build_record(60.0)
    try:
        ten, one = (
            measure(long, args.rounds, args.cold_rounds),
            measure(short, args.rounds, args.cold_rounds),
        )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except subprocess.SubprocessError as exc:
        print(f"a cold render failed: {exc}", file=sys.stderr)
        return 3
    plotly = len(plotly_js_packed())  # inlined gzipped + base64
    show("10-minute run", ten, plotly)
    show("1-minute run", one, plotly)
    growth = (ten.html_bytes - plotly) / (one.html_bytes - plotly)
    print(
        f"10 min / 1 min: render warm {ten.warm_s / one.warm_s:.1f} x, "
        f"size without plotly.js {growth:.1f} x"
    )
    print(f"load average at the end: {load_average():.1f}")
    time_ok, size_ok = ten.cold_s < TARGET_S, ten.html_bytes < TARGET_BYTES
    print(
        f"target render (cold) < {TARGET_S:g} s: {verdict(time_ok)}; "
        f"size < {TARGET_BYTES / 1e6:g} MB: {verdict(size_ok)}"
    )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / "report-10min.html").write_text(render_html(long), encoding="utf-8")
        (args.keep / "report-1min.html").write_text(render_html(short), encoding="utf-8")
        (args.keep / "results-10min.json").write_text(long.model_dump_json(indent=2))
    return 0 if time_ok and size_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
