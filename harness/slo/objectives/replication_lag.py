"""`replication_lag_s`: the most a shard's standby lagged behind its primary during the window,
in seconds (of one shard, if given).

Each shard node's exporter reports, while it is a primary, `pg_replica_replay_lag_seconds` per
standby (how long the standby takes to replay what the primary committed: PostgreSQL's
`replay_lag`, 0 once it has replayed everything). The worst standby of each shard at each
second, its maximum over the window, and the worst shard: one value. A shard with no standby
connected reports no lag series at all (no row in pg_stat_replication), not a large lag: a
window without any is no data (an error verdict), never a pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from harness.slo.objectives._base import Objective, register_objective
from harness.slo.objectives._bounds import Limit
from harness.slo.promql import selector
from harness.vocabulary import SHARD_COUNT

if TYPE_CHECKING:
    from harness.slo.model import SLO

REPLAY_LAG = "pg_replica_replay_lag_seconds"


class ShardLimit(Limit):
    """Bounds on a per-shard measure: the worst shard, or only `shard`."""

    shard: int | None = Field(
        default=None, ge=0, lt=SHARD_COUNT, description="Only this shard (user_id % 4)."
    )


@register_objective
class ReplicationLag(Objective):
    key = "replication_lag_s"
    value = ShardLimit
    description = "Seconds a shard's standby lagged behind its primary at most (worst shard)."

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        shard = slo.value.shard
        lag = selector(REPLAY_LAG, f'shard="{shard}"' if shard is not None else "")
        return f"max(max_over_time(max by (shard) ({lag})[{w}:1s]))"
