"""Who lives where: the exact split of simulated users by home region, their seeded RNGs, and
which of them ignore DNS TTLs.

Pure functions (no Locust, no I/O), so the split and the reproducibility are unit tested.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from fractions import Fraction

from harness.vocabulary import REGIONS


def _region_order(region: str) -> tuple[int, str]:
    return (REGIONS.index(region) if region in REGIONS else len(REGIONS), region)


def region_counts(geography: Mapping[str, float], users: int) -> dict[str, int]:
    """Split `users` by the percents of `geography` with the largest-remainder method.

    Every region gets the floor of its exact share; the users left over go one each to the
    largest remainders, ties broken by region order (REGIONS, then name). The result sums to
    `users` and each count is within one user of its exact share. Regions keep their keys even
    when their count is 0.
    """
    if users < 0:
        raise ValueError(f"users must be >= 0, got {users}")
    regions = sorted(geography, key=_region_order)
    total = sum(Fraction(str(geography[r])) for r in regions)
    if total <= 0:
        raise ValueError(f"geography {dict(geography)} has no positive share")
    exact = {r: Fraction(str(geography[r])) * users / total for r in regions}
    counts = {r: int(exact[r]) for r in regions}  # floor: shares are non-negative
    left = users - sum(counts.values())
    by_remainder = sorted(regions, key=lambda r: (-(exact[r] - counts[r]), _region_order(r)))
    for region in by_remainder[:left]:
        counts[region] += 1
    return counts


def user_rng(seed: int, region: str, index: int, worker: int = 0) -> random.Random:
    """The RNG of the `index`-th user of `region` (in load process `worker`): the same inputs
    give the same sequence in every process and Python run (string seeds hash with SHA-512)."""
    return random.Random(f"chaos-load:{seed}:{region}:{worker}:{index}")


class StaleSplit:
    """Which clients of one region (in one load process) ignore DNS TTLs: `share` of them,
    spread evenly. Client `index` is one iff floor((index + 1) * share + offset) passes
    floor(index * share + offset), so the first n clients hold their exact share within one
    client (while users are still starting too), and the seeded `offset` decides which."""

    def __init__(self, share: float, *, seed: int, region: str, worker: int = 0):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share {share} not in 0..1")
        self.share = share
        self._offset = random.Random(f"chaos-load-stale:{seed}:{region}:{worker}").random()

    def __call__(self, index: int) -> bool:
        share, offset = self.share, self._offset
        return math.floor((index + 1) * share + offset) > math.floor(index * share + offset)
