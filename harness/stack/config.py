"""What a user may change about the bundled stack (the scenario's `stack:` section)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Seeded bugs: switches that break the stack on purpose, to show that the gate fails
# when the system is broken. Each maps to an environment variable of one image.
BUGS = {
    "failover_off": "the geo router has no backup region",
    "ack_before_persist": "workers acknowledge a prefetched batch before doing the work",
    "no_reclaim": "workers never take over jobs left pending by a dead consumer",
    "ack_before_commit": "the web tier answers 201 before the user row is committed",
    "shared_db_pool": "the web tier has no bulkhead: one slow shard starves the others",
    "slow_workers": "every photo job takes 5 times as long: the workers cannot keep up",
}


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    name: str = "default"
    web_replicas: int = 1
    workers_per_region: int = 2
    bugs: frozenset[str] = field(default_factory=frozenset)
    reclaim_idle_ms: int = 5000

    def __post_init__(self) -> None:
        unknown = set(self.bugs) - set(BUGS)
        if unknown:
            raise ValueError(f"unknown bug(s) {sorted(unknown)}; valid: {sorted(BUGS)}")
