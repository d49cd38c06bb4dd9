"""What a user may change about the bundled stack (the scenario's `stack:` section)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from harness import vocabulary as v

# Seeded bugs: switches that break the stack on purpose, to show that the gate fails
# when the system is broken. Each maps to an environment variable of one image.
BUGS = {
    "failover_off": "the DNS answers only the home region's entry: no region to fail over to",
    "ack_before_persist": "workers acknowledge a prefetched batch before doing the work",
    "no_reclaim": "workers never take over jobs left pending by a dead consumer",
    "ack_before_commit": "the web tier answers 201 before the user row is committed",
    "shared_db_pool": "the web tier has no bulkhead: one slow shard starves the others",
    "slow_workers": "every photo job takes 5 times as long: the workers cannot keep up",
    "async_replication": "a shard's primary acknowledges a write before its standby has it",
    "stale_reads": "the web tier reads only its region's copy, even for a user's own writes",
    "no_fencing": "a primary cut off from the witness is promoted straight back when fenced",
    "sticky_primary": "writes keep going to the node first found as primary, after a failover",
    "delayed_standby": "standbys apply what they receive 5 s late (a delayed replica)",
    "dns_static": "the DNS answers by location only, never checked: a dead region keeps its users",
}
REPLICATION_MODES = ("sync", "async")
# Where each shard's primary starts: spread over both regions (shard s in REGIONS[s % 2]: both
# regions take writes), or all in one region.
PLACEMENTS = ("spread", "us-east", "us-west")
DEFAULT_WAN_LATENCY_MS = v.DEFAULT_WAN_LATENCY_MS


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    name: str = "default"
    web_replicas: int = 1
    workers_per_region: int = 2
    bugs: frozenset[str] = field(default_factory=frozenset)
    reclaim_idle_ms: int = 5000
    wan_latency_ms: int = DEFAULT_WAN_LATENCY_MS
    replication: str = "sync"
    primaries: str = "spread"
    dns_ttl_s: int = v.DEFAULT_DNS_TTL_S
    dns_check_interval_s: int = v.DEFAULT_DNS_CHECK_INTERVAL_S

    def __post_init__(self) -> None:
        unknown = set(self.bugs) - set(BUGS)
        if unknown:
            raise ValueError(f"unknown bug(s) {sorted(unknown)}; valid: {sorted(BUGS)}")
        if self.replication not in REPLICATION_MODES:
            raise ValueError(f"replication must be one of {REPLICATION_MODES}")
        if self.primaries not in PLACEMENTS:
            raise ValueError(f"primaries must be one of {PLACEMENTS}")

    @property
    def synchronous(self) -> bool:
        """Whether commits wait for the standby (the seeded bug async_replication says no)."""
        return self.replication == "sync" and "async_replication" not in self.bugs

    def primary_region(self, shard: int) -> str:
        """The region whose copy of `shard` is its primary when the stack starts."""
        if self.primaries == "spread":
            return v.REGIONS[shard % len(v.REGIONS)]
        return self.primaries

    def as_json(self) -> str:
        """What a scenario may change, as the `config` label of the stack's containers, so a
        run with --reuse-stack can tell what the running stack was started with."""
        return json.dumps(
            {"web_replicas": self.web_replicas, "workers_per_region": self.workers_per_region,
             "bugs": sorted(self.bugs), "reclaim_idle_ms": self.reclaim_idle_ms,
             "wan_latency_ms": self.wan_latency_ms, "replication": self.replication,
             "primaries": self.primaries, "dns_ttl_s": self.dns_ttl_s,
             "dns_check_interval_s": self.dns_check_interval_s},
            sort_keys=True,
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str, *, name: str) -> StackConfig:
        """The inverse of `as_json`; ValueError for a label that does not parse."""
        try:
            data = json.loads(text)
            return cls(name=name, web_replicas=int(data["web_replicas"]),
                       workers_per_region=int(data["workers_per_region"]),
                       bugs=frozenset(data["bugs"]),
                       reclaim_idle_ms=int(data["reclaim_idle_ms"]),
                       wan_latency_ms=int(data.get("wan_latency_ms", DEFAULT_WAN_LATENCY_MS)),
                       replication=str(data.get("replication", "sync")),
                       primaries=str(data.get("primaries", "spread")),
                       dns_ttl_s=int(data.get("dns_ttl_s", v.DEFAULT_DNS_TTL_S)),
                       dns_check_interval_s=int(
                           data.get("dns_check_interval_s", v.DEFAULT_DNS_CHECK_INTERVAL_S)
                       ))  # fmt: skip
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a stack config: {text[:80]!r}") from exc


def differences(wanted: StackConfig, running: StackConfig) -> list[tuple[str, str, str]]:
    """What a scenario asks for that the running stack does not have: (field, wanted,
    running) per field, e.g. ("web_replicas", "2", "1"), ("bugs", "[failover_off]", "[]")."""
    found = []
    fields = ("web_replicas", "workers_per_region", "reclaim_idle_ms", "wan_latency_ms",
              "replication", "primaries", "dns_ttl_s", "dns_check_interval_s")  # fmt: skip
    for name in fields:
        a, b = getattr(wanted, name), getattr(running, name)
        if a != b:
            found.append((name, str(a), str(b)))
    if wanted.bugs != running.bugs:
        found.append(("bugs", _bugs(wanted.bugs), _bugs(running.bugs)))
    return found


def _bugs(bugs: frozenset[str]) -> str:
    return f"[{', '.join(sorted(bugs))}]"
