"""From the scenario's load section (and its hotspot faults) to the load generator's settings."""

from __future__ import annotations

from pathlib import Path

from harness.errors import UsageError
from harness.faults.kinds.shard_hotspot import ShardHotspotSpec
from harness.load.settings import Hotspot, LoadSettings
from harness.plan import Timeline
from harness.scenario.model import Scenario


def hotspots(timeline: Timeline) -> tuple[Hotspot, ...]:
    """The shard_hotspot faults, as windows in which the load generator skews its traffic."""
    return tuple(
        Hotspot(
            shard=f.spec.shard,
            share=f.spec.share,
            celebrities=f.spec.celebrities,
            start_s=f.start_s,
            end_s=f.end_s,
        )
        for f in timeline.faults
        if isinstance(f.spec, ShardHotspotSpec)
    )


def load_settings(
    scenario: Scenario,
    timeline: Timeline,
    *,
    host: str,
    metrics: str,
    run_dir: Path,
    dns: str = "",
    entry_port: int = 0,
) -> LoadSettings:
    """The load generator's settings. `dns` (HOST:PORT of the stack's DNS server) and
    `entry_port` make users resolve the service and go to the answer; without them every
    request goes to `host` (one entry), whatever the user's home region."""
    metrics_host, _, metrics_port = metrics.rpartition(":")
    load = scenario.load
    if not dns and load.dns.stale_share > 0:
        raise UsageError(
            f"scenario {scenario.name!r} asks for users that ignore DNS TTLs"
            f" (load.dns.stale_share {load.dns.stale_share:g}), and this stack has no DNS server",
            hint="remove load.dns from the scenario, or run it on a stack with geo DNS",
        )
    dns_host, _, dns_port = dns.rpartition(":")
    return LoadSettings(
        host=host,
        users=load.users,
        spawn_rate=load.spawn_rate,
        duration_s=timeline.duration_s,
        geography={region: float(pct) for region, pct in load.geography.items()},
        tasks={task: float(weight) for task, weight in load.tasks.items()},
        seed=load.seed,
        metrics_host=metrics_host,
        metrics_port=int(metrics_port),
        run_dir=str(run_dir.resolve()),
        hotspots=hotspots(timeline),
        model=load.model,
        rate=load.rate or 0.0,
        max_in_flight=load.in_flight_limit() if load.model == "open" else 0,
        request_timeout_s=load.request_timeout,
        dns_host=dns_host.strip("[]"),
        dns_port=int(dns_port or 0),
        entry_port=entry_port,
        stale_share=load.dns.stale_share,
        stale_keep_s=load.dns.stale_keep,
    )
