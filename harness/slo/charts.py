"""The report's charts: what each shows, and the PromQL range query behind it.

One list, beside the PromQL shorthands it reuses, shared by the collector (which runs the
queries after the load and stores the series in the RunRecord) and the HTML report (which
draws them with the fault windows).
Metric names are those the stack and the load generator export (target-stack/README.md,
target-stack/shard/exporter-queries.yaml, harness/load/client_metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.slo.promql import BACKLOG_SERIES, PENDING_SERIES

# The series key of the chart of where each shard's primary is: the failover manager's
# events (harness.slo.failover) are derived from it after the run.
PRIMARY_CHART = "shard_primary"
# The series keys a region outage's DNS breakdown (harness.slo.dns_failover) is derived from.
DNS_ANSWERS_CHART = "dns_answers"
SERVED_BY_HOME_CHART = "served_by_home"


@dataclass(frozen=True, kw_only=True)
class ChartDef:
    key: str  # RunRecord.series key
    title: str
    unit: str
    queries: tuple[tuple[str, str], ...]  # (PromQL, legend label template using {label})
    # What a newcomer needs to read the chart, shown under its title ("" for none).
    note: str = ""
    # Drawn as lanes instead of lines: each line is an on/off series (1 or 0) drawn as a bar
    # in the lane of this label's value (one lane per shard), only while it is 1.
    lanes: str | None = None


CHARTS: tuple[ChartDef, ...] = (
    ChartDef(
        key="requests_by_region",
        title="Requests/s by home region (client side)",
        unit="req/s",
        queries=(("sum by (region) (rate(harness_client_requests_total[5s]))", "{region}"),),
    ),
    ChartDef(
        key="served_by_region",
        title="Requests/s by serving region (client side)",
        unit="req/s",
        queries=(
            (
                "sum by (served_region) (rate(harness_client_requests_total[5s]))",
                "served by {served_region}",
            ),
        ),
    ),
    ChartDef(
        key=SERVED_BY_HOME_CHART,
        title="Requests/s by home and serving region (client side)",
        unit="req/s",
        queries=(
            (
                "sum by (region, served_region) (rate(harness_client_requests_total[5s]))",
                "{region} users served by {served_region}",
            ),
        ),
        note="Where each region's users were served: after a region's outage its users move "
        "as their cached DNS answers expire. Served by none: no answer (the dead entry).",
    ),
    ChartDef(
        key=DNS_ANSWERS_CHART,
        title="Where the DNS server sends each region's users",
        unit="answer",
        queries=(
            (
                "max by (client_region, answer_region) (harness_dns_answer)",
                "{client_region} users sent to {answer_region}",
            ),
        ),
        note="Asked each second with each region's client subnet, as its users ask. The "
        "server answers a region's users with their own entry only while that entry passes "
        "its health check: this is also the entries' health as the DNS server saw it.",
        lanes="client_region",
    ),
    ChartDef(
        key="dns_client_answers",
        title="DNS answers the users got, by home and answered region (client side)",
        unit="answers/s",
        queries=(
            (
                "sum by (region, answered_region) (rate(harness_client_dns_answers_total[5s]))",
                "{region} users resolved to {answered_region}",
            ),
        ),
        note="Each user asks again only when its cached answer expires (its TTL, or longer "
        "for users that keep answers too long).",
    ),
    ChartDef(
        key="error_ratio",
        title="Error ratio by home region (client side)",
        unit="ratio",
        queries=(
            (
                # `or 0 * all`: a region with no errors yet has no error series; it is 0, not a gap
                '(sum by (region) (rate(harness_client_requests_total{result="error"}[5s]))'
                " or 0 * sum by (region) (rate(harness_client_requests_total[5s])))"
                " / sum by (region) (rate(harness_client_requests_total[5s]))",
                "{region}",
            ),
        ),
    ),
    ChartDef(
        key="latency_p95",
        title="p95 latency by home region (client side)",
        unit="ms",
        queries=(
            (
                "1000 * histogram_quantile(0.95, sum by (region, le)"
                " (rate(harness_client_request_seconds_bucket[5s])))",
                "{region}",
            ),
        ),
    ),
    ChartDef(
        key="queue",
        title="Photo queue: backlog and pending jobs",
        unit="jobs",
        queries=(
            (BACKLOG_SERIES, "backlog (not yet delivered)"),
            (PENDING_SERIES, "pending (delivered, not acknowledged)"),
        ),
    ),
    ChartDef(
        key="live_workers",
        title="Live workers by region",
        unit="workers",
        queries=(('sum by (region) (up{job="worker"})', "{region}"),),
    ),
    ChartDef(
        key="shard_latency",
        title="Shard query p95 latency as the web tier sees it",
        unit="ms",
        queries=(
            (
                "1000 * histogram_quantile(0.95, sum by (shard, le)"
                " (rate(web_db_seconds_bucket[5s])))",
                "shard {shard}",
            ),
        ),
    ),
    ChartDef(
        key="db_errors",
        title="Failed shard queries by shard: writes and reads (web tier)",
        unit="errors/s",
        queries=(("sum by (shard) (rate(web_db_errors_total[5s]))", "shard {shard}"),),
        note="Every shard query the web tier of either region could not complete (a write with "
        "no primary to take it, a read whose copy and primary are both out of reach).",
    ),
    ChartDef(
        key="replication_lag",
        title="Replication lag by shard (its worst standby, as the primary reports it)",
        unit="s",
        queries=(("max by (shard) (pg_replica_replay_lag_seconds)", "shard {shard}"),),
        note="PostgreSQL's replay_lag: how long the standby takes to replay what the primary "
        "committed. A gap: no standby connected to the shard's primary (or no primary).",
    ),
    ChartDef(
        key=PRIMARY_CHART,
        title="Where each shard's primary is",
        unit="primary",
        # 1 while the node is the primary (not in recovery), 0 while it is a standby; no point
        # while its exporter does not answer (the node or its PostgreSQL down).
        queries=(
            (
                "max by (shard, region, service) (1 - pg_node_standby)",
                "shard {shard} primary in {region}",
            ),
        ),
        note="One row per shard; a bar in a region's colour while that region's node is the "
        "shard's primary. No bar: no node was the primary (a failover under way, or the "
        "node not reporting). Two bars at once: two primaries (split brain).",
        lanes="shard",
    ),
    ChartDef(
        key="faults_active",
        title="Faults active (as recorded by the harness)",
        unit="active",
        queries=(("max by (fault, target) (harness_fault_active)", "{fault} {target}"),),
    ),
)
