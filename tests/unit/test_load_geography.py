from __future__ import annotations

import itertools

import pytest

from harness.load.geography import region_counts, user_rng

GEOGRAPHIES = [
    {"us-east": 70, "us-west": 30},
    {"us-east": 50, "us-west": 50},
    {"us-east": 100, "us-west": 0},
    {"us-east": 33.3, "us-west": 66.7},
    {"us-east": 99, "us-west": 1},
    {"us-west": 12.5, "us-east": 87.5},
]
USERS = [0, 1, 2, 3, 7, 10, 99, 100, 101, 333, 1000, 12345]


@pytest.mark.parametrize(("geography", "users"), list(itertools.product(GEOGRAPHIES, USERS)))
def test_region_counts_sum_and_stay_within_one_user_of_the_exact_share(geography, users):
    counts = region_counts(geography, users)
    assert sum(counts.values()) == users
    assert set(counts) == set(geography)
    for region, percent in geography.items():
        assert abs(counts[region] - percent * users / 100) < 1


@pytest.mark.parametrize(
    ("geography", "users", "expected"),
    [
        ({"us-east": 70, "us-west": 30}, 100, {"us-east": 70, "us-west": 30}),
        ({"us-east": 70, "us-west": 30}, 10, {"us-east": 7, "us-west": 3}),
        ({"us-east": 70, "us-west": 30}, 1, {"us-east": 1, "us-west": 0}),
        ({"us-east": 70, "us-west": 30}, 5, {"us-east": 4, "us-west": 1}),  # 3.5 / 1.5: tie
        ({"us-west": 50, "us-east": 50}, 1, {"us-east": 1, "us-west": 0}),  # tie: REGIONS order
        ({"us-east": 50, "us-west": 50}, 3, {"us-east": 2, "us-west": 1}),
        ({"us-east": 0, "us-west": 100}, 4, {"us-east": 0, "us-west": 4}),
    ],
)
def test_region_counts_exact_rows(geography, users, expected):
    assert region_counts(geography, users) == expected


def test_region_counts_rejects_negative_users():
    with pytest.raises(ValueError):
        region_counts({"us-east": 100}, -1)


def test_user_rng_is_reproducible_with_a_seed_and_differs_between_users():
    def draws(seed: int, region: str, index: int, worker: int = 0) -> list[float]:
        rng = user_rng(seed, region, index, worker)
        return [rng.random() for _ in range(5)]

    assert draws(7, "us-east", 3) == draws(7, "us-east", 3)
    others = [draws(8, "us-east", 3), draws(7, "us-west", 3), draws(7, "us-east", 4)]
    others.append(draws(7, "us-east", 3, worker=1))
    assert all(o != draws(7, "us-east", 3) for o in others)
