"""What a user may change about the bundled stack (the scenario's `stack:` section)."""

from __future__ import annotations

import json
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

    def as_json(self) -> str:
        """What a scenario may change, as the `config` label of the stack's containers, so a
        run with --reuse-stack can tell what the running stack was started with."""
        return json.dumps(
            {"web_replicas": self.web_replicas, "workers_per_region": self.workers_per_region,
             "bugs": sorted(self.bugs), "reclaim_idle_ms": self.reclaim_idle_ms},
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
                       reclaim_idle_ms=int(data["reclaim_idle_ms"]))  # fmt: skip
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a stack config: {text[:80]!r}") from exc


def differences(wanted: StackConfig, running: StackConfig) -> list[tuple[str, str, str]]:
    """What a scenario asks for that the running stack does not have: (field, wanted,
    running) per field, e.g. ("web_replicas", "2", "1"), ("bugs", "[failover_off]", "[]")."""
    found = []
    for name in ("web_replicas", "workers_per_region", "reclaim_idle_ms"):
        a, b = getattr(wanted, name), getattr(running, name)
        if a != b:
            found.append((name, str(a), str(b)))
    if wanted.bugs != running.bugs:
        found.append(("bugs", _bugs(wanted.bugs), _bugs(running.bugs)))
    return found


def _bugs(bugs: frozenset[str]) -> str:
    return f"[{', '.join(sorted(bugs))}]"
