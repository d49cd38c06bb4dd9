"""The open model's schedule, loop and latency correction (harness.load.arrivals), with real
gevent greenlets (no Locust, no network)."""

from __future__ import annotations

import random
from collections import Counter

import gevent
import pytest

from harness.load.arrivals import Arrival, CorrectedEvent, OpenLoop, Schedule
from harness.load.traffic import TaskPicker


@pytest.mark.parametrize(
    ("rate", "duration_s", "slices", "counts"),
    [
        (200, 8, 1, [1600]),
        (200, 8, 2, [800, 800]),
        (10, 1, 3, [4, 3, 3]),
        (2.5, 1, 1, [3]),  # due at 0, 0.4, 0.8
        (1, 1, 4, [1, 0, 0, 0]),
    ],
)
def test_slices_share_the_global_schedule(
    rate: float, duration_s: float, slices: int, counts: list[int]
) -> None:
    schedules = [
        Schedule(rate=rate, duration_s=duration_s, slices=slices, slice=w) for w in range(slices)
    ]
    assert [s.count() for s in schedules] == counts
    due = sorted(s.due_s(k) for s in schedules for k in range(s.count()))
    # Together the processes keep the one schedule: the i-th iteration at i / rate.
    assert due == pytest.approx([i / rate for i in range(sum(counts))])
    assert all(t < duration_s for t in due)


@pytest.mark.parametrize(
    "schedule",
    [
        {"rate": 0, "duration_s": 1},
        {"rate": 1, "duration_s": 0},
        {"rate": 1, "duration_s": 1, "slices": 2, "slice": 2},
    ],
)
def test_invalid_schedules_are_rejected(schedule: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Schedule(**schedule)  # type: ignore[arg-type]


def loop(rate: float, duration_s: float, max_in_flight: int, seed: int = 1) -> OpenLoop:
    return OpenLoop(
        Schedule(rate=rate, duration_s=duration_s),
        max_in_flight=max_in_flight,
        regions=TaskPicker({"us-east": 70, "us-west": 30}),
        tasks=TaskPicker({"read_user": 6, "create_user": 1, "submit_photo": 3}),
        rng=random.Random(seed),
    )


def test_iterations_start_on_time_whatever_their_duration() -> None:
    open_loop = loop(rate=100, duration_s=0.3, max_in_flight=100)
    starts: list[float] = []

    def slow(arrival: Arrival) -> None:
        starts.append(open_loop.clock() - arrival.due)
        gevent.sleep(0.2)  # each one outlives many due times: a closed loop would fall behind

    result = open_loop.run(slow, lambda a: pytest.fail("nothing may be dropped"))
    assert (result.started, result.dropped) == (30, 0)
    assert open_loop.finish(timeout_s=2) == 0
    assert len(starts) == 30 and max(starts) < 0.05  # late by no more than a hub switch


def test_iterations_due_while_the_pool_is_full_are_dropped_and_counted() -> None:
    open_loop = loop(rate=100, duration_s=0.2, max_in_flight=2)
    dropped: list[Arrival] = []
    result = open_loop.run(lambda a: gevent.sleep(1), dropped.append)
    assert result.started == 2 and result.dropped == 18 == len(dropped)
    assert all(a.region in ("us-east", "us-west") for a in dropped)
    # Bounded at the end too: what is still running after the wait is killed and counted.
    assert open_loop.finish(timeout_s=0.05) == 2 and len(open_loop.pool) == 0


def test_region_and_task_sequence_is_the_seeds_and_follows_the_weights() -> None:
    def sequence(seed: int) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        open_loop = loop(rate=2000, duration_s=0.5, max_in_flight=10, seed=seed)
        open_loop.run(lambda a: seen.append((a.region, a.task)), lambda a: None)
        open_loop.finish(timeout_s=1)
        return seen

    first = sequence(7)
    assert first == sequence(7) and first != sequence(8)
    regions = Counter(region for region, _ in first)
    assert len(first) == 1000 and abs(regions["us-east"] / 1000 - 0.70) < 0.05
    assert Counter(task for _, task in first)["read_job"] == 0


class FakeEvent:
    def __init__(self) -> None:
        self.fired: list[dict[str, object]] = []

    def fire(self, **kwargs: object) -> None:
        self.fired.append(kwargs)


def test_the_first_request_of_an_iteration_is_timed_from_its_due_time() -> None:
    now = [100.0]
    event = FakeEvent()
    corrected = CorrectedEvent(event, clock=lambda: now[0], current=lambda: "greenlet-1")
    corrected.due(97.5)  # due 2.5 s ago: the target stalled, or every slot was busy
    corrected.fire(name="us-east /users", response_time=3.0)
    now[0] = 100.01
    corrected.fire(name="us-east /users/{id}", response_time=4.0)  # the read-back: its own time
    corrected.done()
    assert [e["response_time"] for e in event.fired] == [pytest.approx(2500.0), 4.0]


def test_correction_never_shortens_and_is_per_greenlet() -> None:
    event = FakeEvent()
    who = ["a"]
    corrected = CorrectedEvent(event, clock=lambda: 10.0, current=lambda: who[0])
    corrected.due(9.999)
    who[0] = "b"
    corrected.fire(response_time=7.0)  # another greenlet, not an iteration's first request
    who[0] = "a"
    corrected.fire(response_time=7.0)  # its own time (7 ms) beats now - due (1 ms)
    corrected.done()
    assert [e["response_time"] for e in event.fired] == [7.0, 7.0]
