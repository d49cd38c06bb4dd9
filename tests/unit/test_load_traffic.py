from __future__ import annotations

import itertools
import random
import time
from collections import Counter

import pytest

from harness.load import traffic as tr
from harness.load.settings import Hotspot, LoadSettings
from harness.load.state import LoadState, celebrity_plan


@pytest.mark.parametrize(
    ("route", "status", "acknowledged", "ok"),
    [
        (tr.ROUTE_CREATE_USER, 201, True, True),
        (tr.ROUTE_CREATE_USER, 200, True, False),
        (tr.ROUTE_READ_USER, 200, True, True),
        (tr.ROUTE_READ_USER, 404, True, False),
        (tr.ROUTE_READ_USER, 404, False, True),
        (tr.ROUTE_READ_JOB, 404, True, False),
        (tr.ROUTE_SUBMIT_PHOTO, 202, True, True),
        (tr.ROUTE_SUBMIT_PHOTO, 404, False, False),
        (tr.ROUTE_READ_USER, 503, True, False),
        (tr.ROUTE_READ_USER, 0, True, False),
    ],
)
def test_is_ok(route, status, acknowledged, ok):
    assert tr.is_ok(route, status, acknowledged=acknowledged) is ok


def test_stats_names_carry_the_region_and_split_back():
    name = tr.stats_name("us-west", tr.ROUTE_SUBMIT_PHOTO)
    assert name == "us-west /users/{id}/photos"
    assert tr.split_stats_name(name) == ("us-west", "/users/{id}/photos")
    assert tr.split_stats_name("Aggregated") is None


def test_task_picker_follows_weights_and_is_reproducible():
    picker = tr.TaskPicker({"read_user": 6, "create_user": 1, "submit_photo": 3, "read_job": 0})
    picks = [picker.pick(random.Random(1)) for _ in range(3)]
    assert len(set(picks)) == 1
    rng = random.Random(2)
    counts = Counter(picker.pick(rng) for _ in range(20_000))
    assert "read_job" not in counts
    assert abs(counts["read_user"] / 20_000 - 0.6) < 0.02
    assert abs(counts["submit_photo"] / 20_000 - 0.3) < 0.02


def test_task_picker_draws_what_random_choices_draws():
    """pick() stands in for rng.choices(names, cum_weights=...)[0] on the hot path: the same
    picks from the same seed, and the RNG left in the same state (runs stay reproducible)."""
    weights = {"read_user": 6, "create_user": 1.5, "submit_photo": 3, "read_job": 0.25}
    picker = tr.TaskPicker(weights)
    names, cumulative = list(weights), list(itertools.accumulate(weights.values()))
    mine, reference = random.Random(5), random.Random(5)
    for _ in range(5_000):
        assert picker.pick(mine) == reference.choices(names, cum_weights=cumulative)[0]
    assert mine.getstate() == reference.getstate()
    only, rng = tr.TaskPicker({"read_user": 0, "read_job": 2}), random.Random(6)
    state = rng.getstate()
    assert only.pick(rng) == "read_job" and rng.getstate() == state  # no draw for one task


def test_id_pool_remembers_everything_and_samples_a_bounded_set():
    pool, rng = tr.IdPool(capacity=10), random.Random(3)
    for i in range(100):
        pool.add(i, rng)
    pool.add(5, rng)
    assert len(pool) == 100 and 99 in pool and 100 not in pool
    assert all(pool.choice(rng) in range(100) for _ in range(50))
    assert tr.IdPool().choice(rng) is None


def test_hot_target_only_inside_the_window_and_in_proportion():
    spot = Hotspot(shard=2, share=0.8, celebrities=2, start_s=10, end_s=20)
    celebrities = {2: [6, 10]}
    rng = random.Random(4)
    assert tr.hot_target(rng, [spot], 9.99, celebrities) is None
    assert tr.hot_target(rng, [spot], 20.0, celebrities) is None
    hits = [tr.hot_target(rng, [spot], 15.0, celebrities) for _ in range(10_000)]
    aimed = [h for h in hits if h is not None]
    assert abs(len(aimed) / 10_000 - 0.8) < 0.02
    assert {h.user_id for h in aimed} == {6, 10} and {h.shard for h in aimed} == {2}
    assert tr.hot_target(rng, [spot], 15.0, {}) in (None,)


def test_state_aims_at_celebrities_during_the_hotspot():
    spot = Hotspot(shard=1, share=1.0, celebrities=1, start_s=5, end_s=10)
    settings = LoadSettings(
        host="http://x", users=1, spawn_rate=1, duration_s=20, geography={"us-east": 100},
        tasks={"read_user": 1}, seed=1, metrics_host="127.0.0.1", metrics_port=1,
        run_dir="/tmp", hotspots=(spot,),
    )  # fmt: skip
    state = LoadState(settings)
    assert state.elapsed_s() == 0.0  # not started yet
    state.user_acknowledged(8)
    state.celebrity_acknowledged(1, 13)
    rng = random.Random(5)
    state.start(now=time.monotonic() - 1)  # before the window: any acknowledged user
    assert {state.pick_user(rng) for _ in range(200)} == {8, 13}
    state.start(now=time.monotonic() - 7)  # inside it: share 1.0 aims every pick at celebrities
    assert {state.pick_user(rng) for _ in range(200)} == {13}


def test_celebrity_plan_alternates_regions_and_takes_the_largest_count_per_shard():
    spots = [
        Hotspot(shard=3, share=0.5, celebrities=2, start_s=0, end_s=5),
        Hotspot(shard=1, share=0.5, celebrities=1, start_s=0, end_s=5),
        Hotspot(shard=3, share=0.5, celebrities=3, start_s=5, end_s=9),
    ]
    plan = celebrity_plan(spots, ["us-east", "us-west"])
    assert plan == [(1, "us-east"), (3, "us-west"), (3, "us-east"), (3, "us-west")]
