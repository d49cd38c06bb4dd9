"""The failover manager's events, derived after the run from where each shard's primary was.

Patroni keeps no history the harness could read after a run, but every shard node's exporter
says each second whether the node is a standby (`pg_node_standby`), and the report's chart of
where each shard's primary is (`PRIMARY_CHART`) stores that as one line per node: 1 while it
is the primary, 0 while it is a standby. A node going from standby to primary was promoted,
from primary to standby demoted; the run's event list gets one event per change, at the first
second it was seen in its new role (the role is sampled each second, so within a second of
the change).

A gap in a node's line (no sample: the node, its PostgreSQL or its exporter down, or a NaN)
is not a role: the change is judged from the last role seen before the gap to the first seen
after it, and the event says the change happened while the node was not reporting. A line's
first role is where it starts, not a change. Flapping gives every change. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from harness.record import Event, Series
from harness.vocabulary import shard_node

PROMOTED = "promoted"
DEMOTED = "demoted"
FAILOVER_KINDS: tuple[str, ...] = (PROMOTED, DEMOTED)


@dataclass(frozen=True, kw_only=True)
class _Seen:
    t: float
    primary: bool


def _roles(points: list[tuple[float, float | None]]) -> list[_Seen]:
    """Each sampled role in time order; a NaN or missing value is no role."""
    return [
        _Seen(t=t, primary=v >= 0.5)
        for t, v in sorted(points, key=lambda p: p[0])
        if v is not None and math.isfinite(v)
    ]


def _node(labels: dict[str, str]) -> str:
    """The node's name: the `service` label the shard job scrapes it with, else its shard
    node name from `shard` and `region`, else whatever labels it has."""
    if labels.get("service"):
        return labels["service"]
    shard, region = labels.get("shard"), labels.get("region")
    if shard is not None and shard.isdigit() and region:
        return shard_node(int(shard), region)
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "legend") or "a node"


def node_events(series: Series, *, step_s: float = 1.0) -> list[Event]:
    """The promotions and demotions of one node's line (1 primary, 0 standby)."""
    node = _node(series.labels)
    shard = series.labels.get("shard")
    prefix = f"shard {shard}: " if shard is not None else ""
    events: list[Event] = []
    roles = _roles(series.points)
    for before, now in pairwise(roles):
        if before.primary == now.primary:
            continue
        kind = PROMOTED if now.primary else DEMOTED
        message = f"{prefix}{node} {kind}"
        silent_s = now.t - before.t
        if silent_s > 1.5 * step_s:  # samples missing between them: a gap
            role = "primary" if now.primary else "standby"
            message += (
                f" (while not reporting: seen as a {role} after {silent_s:.0f} s without data)"
            )
        events.append(Event(t=now.t, kind=kind, message=message))
    return events


def in_order(events: Iterable[Event]) -> list[Event]:
    """Promotions and demotions in time order; at the same second a demotion before a
    promotion (the old primary, then the new one), then by shard and node."""
    return sorted(events, key=lambda e: (e.t, e.kind != DEMOTED, e.message))


def failover_events(lines: list[Series], *, step_s: float = 1.0) -> list[Event]:
    """Every node's promotions and demotions (`in_order`)."""
    return in_order(event for series in lines for event in node_events(series, step_s=step_s))
