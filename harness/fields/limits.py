"""Upper bounds on what a scenario may ask for: sized for one machine running the harness, the
load generator and the bundled stack, with room to spare.

A number past these is a typo or a misunderstanding (`users: 1000000000000`), never a test one
machine can run; refusing it at `validate` beats a run that dies an hour in. Each bound says
why it is where it is; raise one here, with its reason, when a real need shows.
"""

from __future__ import annotations

# Load. Locust runs a few thousand gevent users per core before the load generator, not the
# system under test, is what gets measured; on the 2-core machines this harness targets the
# bundled stack saturates well before 1000.
MAX_USERS = 10_000
# Users started per second: Locust itself warns above 100 per process; 1000 leaves room for
# `--processes` without allowing a number that only means "all at once, now".
MAX_SPAWN_RATE = 1_000.0
# A day: a long soak test. Every duration, fault offset and time bound stays within it (the run
# record, the charts and the Prometheus queries hold one sample per second of it).
MAX_DURATION_S = 24 * 3600.0
# Task weights are relative: at 1000 : 1 the rare task is already vanishingly rare.
MAX_TASK_WEIGHT = 1_000
MAX_SEED = 2**32 - 1  # what people write; random.Random takes any int, but JSON/CI tools may not

# Faults. A delay over 10 minutes is an outage, not latency (use link_down); every client and
# health check has timed out long before.
MAX_DELAY_MS = 600_000
MAX_TIMEOUT_MS = int(MAX_DURATION_S * 1000)  # a timeout toxic may hold for the whole run
MAX_DELAY_US = 1_000_000  # slicer: a second between packets already stalls every request
MAX_RATE_KBPS = 10_000_000  # 10 GB/s: more than any loopback link carries
MAX_BYTES = 2**30  # limit_data: 1 GiB through before the close
MAX_PACKET_BYTES = 65_536  # slicer: an IP packet's maximum size

# The scenario as a whole: a game day of all the bundled faults is 3 faults and 11 SLOs.
MAX_FAULTS = 100
MAX_SLOS = 200
MAX_NAME_CHARS = 80  # the scenario name is part of the report's directory name
MAX_TEXT_CHARS = 2_000  # descriptions
MAX_PROMQL_CHARS = 4_000  # a hand-written query; the longest built-in one is about 200

_WHY = {
    "users": "one machine runs load and stack: past a few thousand users, Locust is measured",
    "spawn_rate": "start users more slowly: Locust warns above 100 a second per process",
    "duration": "a run is at most a day (a soak test)",
    "at": "a run is at most a day (a soak test)",
}
_LIMITS = {value for name, value in dict(globals()).items() if name.startswith("MAX_")}


def is_limit(value: object) -> bool:
    """Whether `value` is one of these bounds (and not, say, the stack's shard count)."""
    return isinstance(value, int | float) and value in _LIMITS


def bound_hint(field: str | int | None) -> str:
    """The hint for a value past one of these bounds: why it is there, and where they are."""
    why = _WHY.get(field, "the bounds fit one machine") if isinstance(field, str) else None
    return f"{why or 'the bounds fit one machine'}; each has its reason in harness/fields/limits.py"
