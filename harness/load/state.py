"""What one load process knows while it runs: acknowledged ids, celebrities, the clock.

Shared by all simulated users of a process (greenlets, so no locks). Pure: no Locust, no I/O.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

from harness.load.geography import StaleSplit, user_rng
from harness.load.settings import Hotspot, LoadSettings
from harness.load.traffic import HotTarget, IdPool, hot_target


class NewUser(NamedTuple):
    rng: random.Random  # its own decisions
    ignores_ttl: bool  # keeps DNS answers settings.stale_keep_s, whatever their TTL


class LoadState:
    """Per-process state. `worker` is Locust's worker index (0 in a single process), so users
    of different processes draw from different seeded RNGs."""

    def __init__(self, settings: LoadSettings, *, worker: int = 0):
        self.settings = settings
        self.worker = worker
        self.users: IdPool[int] = IdPool()
        self.jobs: IdPool[str] = IdPool()
        # A read or write target (most requests start here, so without hotspots it is the
        # users' pool's own draw, a call less): a celebrity during a hotspot, else an
        # acknowledged user. None: no user acknowledged yet.
        self.pick_user: Callable[[random.Random], int | None] = (
            self._pick_hot_or_user if settings.hotspots else self.users.choice
        )
        # A job to read: one acknowledged, None before the first.
        self.pick_job: Callable[[random.Random], str | None] = self.jobs.choice
        self.celebrities: dict[int, list[int]] = {}
        self._started: float | None = None
        self._next_index: dict[str, int] = {}
        self._next_client: dict[str, int] = {}
        self._stale: dict[str, StaleSplit] = {}
        # Pool replacement only; the users' own decisions come from their own RNGs.
        self._rng = random.Random(f"chaos-load-pool:{settings.seed}:{worker}")

    def start(self, now: float | None = None) -> None:
        self._started = time.monotonic() if now is None else now

    def elapsed_s(self, now: float | None = None) -> float:
        if self._started is None:
            return 0.0
        return (time.monotonic() if now is None else now) - self._started

    def new_user(self, region: str) -> NewUser:
        """The next user of `region` in this process: its RNG, and whether it ignores TTLs
        (settings.stale_share of each region's users), both from (seed, region, worker, index)."""
        index = self._next_index.get(region, 0)
        self._next_index[region] = index + 1
        rng = user_rng(self.settings.seed, region, index, self.worker)
        return NewUser(rng, self._stale_split(region)(index))

    def new_user_rng(self, region: str) -> random.Random:
        return self.new_user(region).rng

    def next_client_ignores_ttl(self, region: str) -> bool:
        """The open model's clients are its iterations: whether the next one of `region`
        in this process ignores TTLs (the same split as the closed model's users)."""
        index = self._next_client.get(region, 0)
        self._next_client[region] = index + 1
        return self._stale_split(region)(index)

    def _stale_split(self, region: str) -> StaleSplit:
        split = self._stale.get(region)
        if split is None:
            s = self.settings
            split = StaleSplit(s.stale_share, seed=s.seed, region=region, worker=self.worker)
            self._stale[region] = split
        return split

    def user_acknowledged(self, user_id: int) -> None:
        self.users.add(user_id, self._rng)

    def job_acknowledged(self, job_id: str) -> None:
        self.jobs.add(job_id, self._rng)

    def celebrity_acknowledged(self, shard: int, user_id: int) -> None:
        self.celebrities.setdefault(shard, []).append(user_id)
        self.user_acknowledged(user_id)

    def hot(self, rng: random.Random) -> HotTarget | None:
        if not self.settings.hotspots:
            return None
        return hot_target(rng, self.settings.hotspots, self.elapsed_s(), self.celebrities)

    def _pick_hot_or_user(self, rng: random.Random) -> int | None:
        target = self.hot(rng)
        return self.users.choice(rng) if target is None else target.user_id


def celebrity_plan(hotspots: Sequence[Hotspot], regions: Sequence[str]) -> list[tuple[int, str]]:
    """(shard, home region) of every celebrity to create at the start, regions in turn. Shards
    named by several hotspots get the largest number asked for."""
    wanted: dict[int, int] = {}
    for spot in hotspots:
        wanted[spot.shard] = max(wanted.get(spot.shard, 0), spot.celebrities)
    plan, turn = [], 0
    for shard, count in sorted(wanted.items()):
        for _ in range(count):
            plan.append((shard, regions[turn % len(regions)]))
            turn += 1
    return plan
