"""What a simulated user does next and whether the answer was right: pure traffic logic.

The locustfile only wires these to HTTP; everything here takes its RNG as an argument, so a
user's sequence of decisions is reproducible from (seed, region, index).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Generic, TypeVar

from harness.load.settings import Hotspot

# Route templates (the names of Locust stats entries and the `route` label of client metrics)
# and the kinds of request an SLO may single out live in the shared vocabulary.
from harness.vocabulary import (
    ROUTE_CREATE_USER,
    ROUTE_READ_JOB,
    ROUTE_READ_USER,
    ROUTE_SUBMIT_PHOTO,
)

EXPECTED_STATUS: dict[str, int] = {
    ROUTE_CREATE_USER: 201,
    ROUTE_READ_USER: 200,
    ROUTE_SUBMIT_PHOTO: 202,
    ROUTE_READ_JOB: 200,
}
READ_ROUTES = frozenset({ROUTE_READ_USER, ROUTE_READ_JOB})
PHOTO_OPS = ("blur", "sharpen")
Id = TypeVar("Id", int, str)  # a user's id, or a job's
# What a task falls back to when it has no target yet (no user or job acknowledged so far).
FALLBACK = {"read_user": "create_user", "submit_photo": "create_user", "read_job": "submit_photo"}


def stats_name(region: str, route: str) -> str:
    """The Locust stats entry of a request: home region, a space, the route template. The
    region lets progress() report per-region figures from Locust's own history CSV."""
    return f"{region} {route}"


def split_stats_name(name: str) -> tuple[str, str] | None:
    region, sep, route = name.partition(" ")
    return (region, route) if sep and route.startswith("/") else None


def is_ok(route: str, status: int, *, acknowledged: bool = True) -> bool:
    """Whether a response is a success: exactly the expected status. A 404 on a read is a
    failure unless the id was never acknowledged to this client (then 404 is the truth)."""
    if status == EXPECTED_STATUS[route]:
        return True
    return status == 404 and route in READ_ROUTES and not acknowledged


class TaskPicker:
    """Weighted choice of the next task from the user's own RNG."""

    def __init__(self, weights: Mapping[str, float]):
        chosen = [(name, w) for name, w in weights.items() if w > 0]
        if not chosen:
            raise ValueError(f"no task has a positive weight in {dict(weights)}")
        self.names = [name for name, _ in chosen]
        self._cumulative = list(accumulate(w for _, w in chosen))
        self._only = self.names[0] if len(self.names) == 1 else None
        self._total = self._cumulative[-1] + 0.0
        self._hi = len(self.names) - 1

    def pick(self, rng: random.Random) -> str:
        """`rng.choices(names, cum_weights=...)[0]` (the same draw from the same RNG state,
        test_load_traffic checks it), without building its one-element list and checking
        its arguments on every call: each request of a user starts here (hot path)."""
        if self._only is not None:
            return self._only
        return self.names[bisect_right(self._cumulative, rng.random() * self._total, 0, self._hi)]


class IdPool(Generic[Id]):
    """Ids the stack acknowledged to this process. Remembers every id (for the 404 rule) and
    keeps a bounded sample to draw targets from, replacing a random slot when full."""

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._sample: list[Id] = []
        self._seen: set[Id] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, item: object) -> bool:
        return item in self._seen

    def add(self, item: Id, rng: random.Random) -> None:
        if item in self._seen:
            return
        self._seen.add(item)
        if len(self._sample) < self.capacity:
            self._sample.append(item)
        else:
            self._sample[rng.randrange(self.capacity)] = item

    def choice(self, rng: random.Random) -> Id | None:
        """A uniform draw from the sample; None when empty. Most requests start here (hot
        path): one `random()` scaled to the length, as random.choice did before Python 3.2,
        rather than its getrandbits loop (three calls more). `random() * n` never rounds up
        to n: random() is at most 1 - 2**-53."""
        sample = self._sample
        return sample[int(rng.random() * len(sample))] if sample else None


@dataclass(frozen=True, kw_only=True)
class HotTarget:
    shard: int
    user_id: int


def hot_target(
    rng: random.Random,
    hotspots: Sequence[Hotspot],
    elapsed_s: float,
    celebrities: Mapping[int, Sequence[int]],
) -> HotTarget | None:
    """A celebrity to aim this read or write at, or None for ordinary traffic. The first
    hotspot active at `elapsed_s` wins; its `share` is the chance of aiming at it."""
    for spot in hotspots:
        if not spot.active(elapsed_s):
            continue
        ids = celebrities.get(spot.shard, ())
        # Draw even when no celebrity exists yet, so the RNG sequence does not depend on timing.
        aimed = rng.random() < spot.share
        if aimed and ids:
            return HotTarget(shard=spot.shard, user_id=rng.choice(ids))
        return None
    return None
