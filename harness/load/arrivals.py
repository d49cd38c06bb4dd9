"""The open load model: iterations at a fixed rate, whatever the target answers.

Closed-loop users send their next request when the last one is answered, so a target that
stalls for 10 s hides the requests those users would have sent meanwhile (coordinated
omission). Here, as in k6's constant-arrival-rate executor, the i-th iteration is due at
start + i / rate; each runs in its own greenlet, and its first request is timed from the due
time (completion - due), as wrk2 and HdrHistogram correct it. Later requests of the same
iteration (the read-back after a signup) are sent in answer to the first, so they are timed
from their own start.

At most `max_in_flight` iterations run at once in a process. An iteration due while that many
run is dropped: it is reported as a failed request of its task's first route, with the request
timeout as its latency (what the client would have seen had it sent the request and given up),
so a stall never makes requests vanish from the error ratio or the latency quantiles. For the
same reason an iteration still running when the load stops (killed at Locust's stop timeout)
is reported as a failed request too, with its latency so far.

With N load processes, process w runs the global iterations w, w + N, w + 2N, ...: together
they keep the schedule, each one N-th of the rate. Imported by the locustfile only (gevent,
no Locust), and by the unit tests.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.pool import Pool

from harness.load.traffic import TaskPicker


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """The due times of process `slice` of `slices`, in seconds after the load starts."""

    rate: float  # iterations per second, all processes together
    duration_s: float
    slices: int = 1
    slice: int = 0

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.duration_s <= 0 or not 0 <= self.slice < self.slices:
            raise ValueError(f"invalid schedule {self}")

    def count(self) -> int:
        """This slice's iterations: the global ones due in [0, duration) that are its own."""
        total = math.ceil(self.rate * self.duration_s - 1e-9)
        return max(0, -(-(total - self.slice) // self.slices))

    def due_s(self, k: int) -> float:
        return (k * self.slices + self.slice) / self.rate


@dataclass(frozen=True, kw_only=True)
class Arrival:
    due: float  # on the loop's clock (time.perf_counter)
    region: str
    task: str


@dataclass(frozen=True, kw_only=True)
class LoopResult:
    started: int
    dropped: int


class OpenLoop:
    """Runs the iterations of `schedule` in a pool of `max_in_flight` greenlets. Each
    iteration's home region and task are drawn in order from `rng` (by the geography and task
    weights), so a process's sequence of (region, task) is the same in every run."""

    def __init__(
        self,
        schedule: Schedule,
        *,
        max_in_flight: int,
        regions: TaskPicker,
        tasks: TaskPicker,
        rng: random.Random,
        clock: Callable[[], float] = time.perf_counter,
    ):
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
        self.schedule = schedule
        self.pool = Pool(max_in_flight)
        self.regions, self.tasks, self.rng = regions, tasks, rng
        self.clock = clock

    def run(
        self, iteration: Callable[[Arrival], Any], drop: Callable[[Arrival], Any]
    ) -> LoopResult:
        """Start every due iteration, or `drop` it when the pool is full; returns when the
        last one is due (bounded by the schedule's count and so by its duration)."""
        start = self.clock()
        started = dropped = 0
        for k in range(self.schedule.count()):
            due = start + self.schedule.due_s(k)
            # Sleep 0 when late: the in-flight iterations get their turn between due ones.
            gevent.sleep(max(0.0, due - self.clock()))
            arrival = Arrival(
                due=due, region=self.regions.pick(self.rng), task=self.tasks.pick(self.rng)
            )
            if self.pool.full():
                drop(arrival)
                dropped += 1
            else:
                self.pool.spawn(iteration, arrival)
                started += 1
        return LoopResult(started=started, dropped=dropped)

    def finish(self, timeout_s: float) -> int:
        """Wait up to `timeout_s` for the iterations in flight, then kill the rest; returns
        how many were killed."""
        self.pool.join(timeout=timeout_s)
        left = len(self.pool)
        self.pool.kill(block=True, timeout=1)
        return left


class CorrectedEvent:
    """The open model's latency correction, for Locust's request `event`: the first request
    fired by a greenlet after `due()` gets response_time = now - due (in ms), never less than
    its own time; later ones keep theirs. `fire()` stands in for the event; `correct()` is
    the correction alone (the locustfile's JudgedEvent applies it between judging a request
    and counting it)."""

    def __init__(
        self,
        event: Any,
        *,
        clock: Callable[[], float] = time.perf_counter,
        current: Callable[[], object] = gevent.getcurrent,
    ):
        self.event = event
        self._clock, self._current = clock, current
        self._due: dict[object, float] = {}

    def due(self, when: float) -> None:
        self._due[self._current()] = when

    def done(self) -> None:
        self._due.pop(self._current(), None)

    def correct(self, response_time: float | None) -> float | None:
        """The response time (ms) to report for a request of the current greenlet, which is
        done with its due time: now - due for the first after `due()`, never less than its own
        time; its own time otherwise. (What fire() reports; the locustfile's JudgedEvent
        calls this between judging a request by its own time and counting it.)"""
        due = self._due.pop(self._current(), None)
        if due is None:
            return response_time
        return max(response_time or 0.0, (self._clock() - due) * 1000.0)

    def fire(self, **kwargs: Any) -> None:
        kwargs["response_time"] = self.correct(kwargs.get("response_time"))
        self.event.fire(**kwargs)
