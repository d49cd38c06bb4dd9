from __future__ import annotations

import itertools

import pytest

from harness.load.geography import StaleSplit, region_counts, user_rng
from harness.load.settings import LoadSettings
from harness.load.state import LoadState

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


@pytest.mark.parametrize("share", [0.0, 0.01, 0.25, 0.3, 0.5, 2 / 3, 0.99, 1.0])
@pytest.mark.parametrize("seed", [1, 7, 12345])
def test_every_prefix_of_users_holds_the_stale_share_within_one_user(share, seed):
    split = StaleSplit(share, seed=seed, region="us-east")
    stale = 0
    for n in range(1, 301):
        stale += split(n - 1)
        assert abs(stale - n * share) < 1, (n, stale)


def test_which_users_are_stale_follows_the_seed_region_and_process():
    def chosen(seed: int, region: str = "us-east", worker: int = 0) -> list[int]:
        split = StaleSplit(0.3, seed=seed, region=region, worker=worker)
        return [i for i in range(40) if split(i)]

    assert chosen(7) == chosen(7)
    others = [chosen(8), chosen(7, "us-west"), chosen(7, worker=1)]
    assert all(o != chosen(7) for o in others)


def test_stale_share_is_bounded():
    with pytest.raises(ValueError):
        StaleSplit(1.2, seed=1, region="us-east")


def test_load_state_gives_each_region_its_stale_users_and_open_model_clients():
    settings = LoadSettings(
        host="http://127.0.0.1:1",
        users=20,
        spawn_rate=1,
        duration_s=10,
        geography={"us-east": 50, "us-west": 50},
        tasks={"read_user": 1},
        seed=7,
        metrics_host="127.0.0.1",
        metrics_port=1,
        run_dir="/tmp/run",
        dns_host="127.0.0.1",
        dns_port=53,
        entry_port=80,
        stale_share=0.3,
    )
    state = LoadState(settings)
    users = [state.new_user(r) for r in ("us-east", "us-west") for _ in range(10)]
    assert sum(u.ignores_ttl for u in users[:10]) == 3 == sum(u.ignores_ttl for u in users[10:])
    # The user's RNG is the one it always had: the stale split draws nothing from it.
    assert users[0].rng.random() == user_rng(7, "us-east", 0).random()
    split = StaleSplit(0.3, seed=7, region="us-west")
    clients = [state.next_client_ignores_ttl("us-west") for _ in range(10)]
    assert clients == [split(i) for i in range(10)]
