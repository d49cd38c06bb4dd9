"""A realistic RunRecord for the report tests (shared data, not a test module).

`sample_record()`: a 180 s region-outage run with three phases, one fault, most charts filled
(us-east's primaries fail over to us-west, with their promotion and demotion events),
SLOs passing, failing and erroring, and an invariant that lost writes.
"""

from __future__ import annotations

import math

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

T0 = 1_714_564_800.0  # 2024-05-01 12:00:00 UTC: the load's start
SCENARIO = {
    "name": "region-outage",
    "description": "us-east goes dark for 60 s; its users must be served by us-west.",
    "stack": {"web_replicas": 1, "workers_per_region": 2},
    "load": {
        "users": 100,
        "spawn_rate": 50,
        "duration": "180s",
        "geography": {"us-east": 70, "us-west": 30},
        "tasks": {"read_user": 6, "create_user": 1, "submit_photo": 3},
        "seed": 7,
    },
    "faults": [{"type": "region_outage", "region": "us-east", "at": "60s", "duration": "60s"}],
    "slos": [
        {"name": "errors while us-east is down", "phase": "fault", "error_ratio": {"max": 0.05}},
        {"name": "steady p95", "phase": "steady", "latency_p95_ms": {"max": 300}},
        {"name": "custom", "phase": "recovery", "promql": "sum(rate(x[$window]))", "max": 10},
    ],
    "invariants": ["no_lost_writes", "no_lost_jobs"],
}


def _line(labels: dict[str, str], f: object, step: int = 5, end: int = 180) -> Series:
    fn = f  # a function of the offset in seconds
    assert callable(fn)
    return Series(labels=labels, points=[(T0 + s, float(fn(s))) for s in range(0, end + 1, step)])


def _down(s: int) -> bool:
    return 60 <= s < 120


def _series() -> dict[str, list[Series]]:
    return {
        "requests_by_region": [
            _line({"region": "us-east"}, lambda s: 70 + 5 * math.sin(s / 9)),
            _line({"region": "us-west"}, lambda s: 30 + 3 * math.cos(s / 7)),
        ],
        "served_by_region": [
            _line({"served_region": "us-east"}, lambda s: 0 if _down(s) else 70),
            _line({"served_region": "us-west"}, lambda s: 96 if _down(s) else 30),
        ],
        # us-east's users leave as their cached answers expire, and come back after the outage
        "served_by_home": [
            _line(
                {"region": "us-east", "served_region": "us-east"},
                lambda s: 0 if 72 <= s < 120 else (70 if not _down(s) else 35),
            ),
            _line(
                {"region": "us-east", "served_region": "us-west"},
                lambda s: 70 if 72 <= s < 120 else (35 if _down(s) else 0),
            ),
            _line({"region": "us-west", "served_region": "us-west"}, lambda s: 30),
        ],
        # the DNS server's answer for us-east's users moves 2 s into the outage, back at its end
        "dns_answers": [
            _line(
                {"client_region": "us-east", "answer_region": "us-east"},
                lambda s: 0 if 62 <= s < 122 else 1,
            ),
            _line(
                {"client_region": "us-east", "answer_region": "us-west"},
                lambda s: 1 if 62 <= s < 122 else 0,
            ),
            _line({"client_region": "us-west", "answer_region": "us-west"}, lambda s: 1),
        ],
        "dns_client_answers": [
            _line({"region": "us-east", "answered_region": "us-east"}, lambda s: 7),
            _line({"region": "us-west", "answered_region": "us-west"}, lambda s: 3),
        ],
        "error_ratio": [
            _line({"region": "us-east"}, lambda s: 0.4 if 60 <= s < 70 else 0.002),
            _line({"region": "us-west"}, lambda s: 0.001),
        ],
        "latency_p95": [
            _line({"region": "us-east"}, lambda s: 480 if _down(s) else 120 + s % 20),
            _line({"region": "us-west"}, lambda s: 260 if _down(s) else 110 + s % 15),
        ],
        "queue": [
            _line({"legend": "backlog (not yet delivered)"}, lambda s: 40 if _down(s) else 3),
            _line({"legend": "pending (delivered, not acknowledged)"}, lambda s: 6),
        ],
        "live_workers": [
            _line({"region": "us-east"}, lambda s: 0 if _down(s) else 2),
            _line({"region": "us-west"}, lambda s: 2),
        ],
        "shard_latency": [
            _line({"shard": str(n)}, lambda s, n=n: 8 + 3 * n + (s % 10) / 2) for n in range(4)
        ],
        # us-east's primaries (shards 0 and 2) cannot write until us-west's copies take over
        "db_errors": [
            _line({"shard": str(n)}, lambda s, n=n: 12 if n % 2 == 0 and 60 <= s < 75 else 0)
            for n in range(4)
        ],
        # no standby connected while us-east is cut off: no lag series (a gap)
        "replication_lag": [
            Series(
                labels={"shard": str(n)},
                points=[(T0 + s, 0.02 + 0.01 * n) for s in range(0, 181, 5) if not _down(s)],
            )
            for n in range(4)
        ],
        "shard_primary": [_primary(n, r) for n in range(4) for r in ("us-east", "us-west")],
        "faults_active": [],  # drawn as "no data"
    }


def _primary(shard: int, region: str) -> Series:
    """Spread primaries (shards 0 and 2 in us-east); us-east's are fenced 5 s into its outage
    and us-west's copies promoted 10 s later, and stay primary after it (no failback)."""
    starts_primary = (shard % 2 == 0) == (region == "us-east")
    moves = shard % 2 == 0
    labels = {"shard": str(shard), "region": region, "service": f"shard-{shard}-{region}"}
    if not moves:
        return _line(labels, lambda s: 1 if starts_primary else 0)
    if starts_primary:
        return _line(labels, lambda s: 1 if s < 65 else 0)
    return _line(labels, lambda s: 1 if s >= 75 else 0)


# What harness.slo.failover derives from the "shard_primary" series above.
FAILOVER_EVENTS = [
    Event(t=T0 + 65, kind="demoted", message="shard 0: shard-0-us-east demoted"),
    Event(t=T0 + 65, kind="demoted", message="shard 2: shard-2-us-east demoted"),
    Event(t=T0 + 75, kind="promoted", message="shard 0: shard-0-us-west promoted"),
    Event(t=T0 + 75, kind="promoted", message="shard 2: shard-2-us-west promoted"),
]


def _slos() -> list[SloResult]:
    return [
        SloResult(
            name="errors while us-east is down",
            phase="fault",
            objective="error_ratio",
            promql='sum(rate(harness_client_requests_total{result="error"}[60s]))'
            " / sum(rate(harness_client_requests_total[60s]))",
            window_start=T0 + 60.4,
            window_end=T0 + 120.2,
            observed=0.071,
            max=0.05,
            verdict="fail",
        ),
        SloResult(
            name="steady p95",
            phase="steady",
            objective="latency_p95_ms",
            promql="1000 * histogram_quantile(0.95, sum by (le) "
            "(rate(harness_client_request_seconds_bucket[60s])))",
            window_start=T0,
            window_end=T0 + 60.4,
            observed=131.5,
            max=300,
            verdict="pass",
        ),
        SloResult(
            name="custom",
            phase="recovery",
            objective="promql",
            promql="sum(rate(worker_jobs_failed_total[60s]))",
            window_start=T0 + 120.2,
            window_end=T0 + 180,
            max=10,
            verdict="error",
            error="query returned no data: check the metric name",
        ),
    ]


def sample_record(**changes: object) -> RunRecord:
    """A finished, failed region-outage run; keyword arguments replace fields."""
    record = RunRecord(
        run_id="20240501T120000Z-region-outage-3f9c",
        harness_version="0.1.0",
        scenario_name="region-outage",
        scenario_file="scenarios/region-outage.yaml",
        scenario=SCENARIO,
        seed=7,
        status="failed",
        exit_code=1,
        started_at=T0 - 42.0,
        ended_at=T0 + 215.0,
        load_started_at=T0,
        load_ended_at=T0 + 180.0,
        stack={
            "name": "chaos-3f9c",
            "reused": False,
            "images": {"web": "sha256:1a2b3c", "worker": "sha256:4d5e6f", "queue": "sha256:778899"},
        },
        phases=[
            PhaseWindow(name="steady", start=T0, end=T0 + 60.4),
            PhaseWindow(name="fault", start=T0 + 60.4, end=T0 + 120.2),
            PhaseWindow(name="recovery", start=T0 + 120.2, end=T0 + 180.0),
        ],
        steps=[
            Step(name="validate", started_at=T0 - 42, ended_at=T0 - 41.9),
            Step(name="stack up", started_at=T0 - 41.9, ended_at=T0 - 1.5),
            Step(name="load", started_at=T0, ended_at=T0 + 180),
            Step(name="fault 0", started_at=T0 + 60.4, ended_at=T0 + 120.2),
            Step(
                name="judge",
                started_at=T0 + 181,
                ended_at=T0 + 214,
                status="failed",
                error="1 SLO failed, 1 SLO errored",
            ),
        ],
        faults=[
            FaultRecord(
                index=0,
                type="region_outage",
                target="us-east",
                planned_start_s=60,
                planned_end_s=120,
                applied_at=T0 + 60.4,
                removed_at=T0 + 120.2,
                status="removed",
            ),
        ],
        events=[
            Event(t=T0 + 60.4, kind="fault_applied", message="region_outage us-east", fault=0),
            Event(t=T0 + 61.0, kind="container_stopped", message="web-us-east-1 stopped"),
            Event(t=T0 + 120.2, kind="fault_removed", message="region_outage us-east", fault=0),
            *FAILOVER_EVENTS,
        ],
        slos=_slos(),
        invariants=[
            InvariantResult(
                name="no_lost_writes",
                verdict="fail",
                acknowledged=1850,
                found=1847,
                lost=3,
                detail="3 acknowledged users missing from their shard",
                lost_examples=["user 1042 (shard 2)", "user 1077 (shard 1)", "user 1101 (shard 1)"],
            ),
            InvariantResult(
                name="no_lost_jobs",
                verdict="pass",
                acknowledged=5400,
                found=5400,
                duplicated=2,
                detail="all jobs done; 2 done twice",
            ),
        ],
        load_summary={
            "requests": 27000,
            "failures": 612,
            "rps": 150.2,
            "by_region": {"us-east": {"requests": 18900, "p95_ms": 310}, "us-west": {"p95": 140}},
            "routes": [{"route": "GET /users/:id", "requests": 16200}, {"route": "POST /photos"}],
        },
        series=_series(),
        log_errors={
            "web-us-east-1": ["ERROR connection refused: shard-2:5432", "ERROR timeout"],
            "worker-us-west-1": [],
        },
    )
    return record.model_copy(update=changes)
