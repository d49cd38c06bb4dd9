"""Running the invariant checks after the recovery window: read the ledger, the shards and
the queue, wait for the queue to drain, judge (harness.invariants.checks). `single_primary`
needs the ledger alone (where each write was committed).

A shard or the queue that cannot be read makes that invariant an error (with the message),
never a pass; the other invariants are still checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.invariants.checks import (
    JobRow,
    no_lost_jobs,
    no_lost_writes,
    pending_jobs,
    read_your_writes,
    single_primary,
)
from harness.load.ledger import Ledger, read_ledger
from harness.ports import QueueSource, ShardSource
from harness.record import InvariantResult
from harness.vocabulary import INVARIANTS, shard_of

__all__ = ["INVARIANTS", "QueueSource", "ShardSource", "check_invariants", "read_job_rows"]


def check_invariants(
    names: Sequence[str],
    run_dir: str | Path,
    *,
    shards: ShardSource,
    queue: QueueSource,
    drain_timeout_s: float = 60.0,
    poll_s: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    ledger: Ledger | None = None,
) -> list[InvariantResult]:
    """One result per name, in order. The caller opens (and closes) `shards` and `queue`;
    `ledger`: the run's, if the caller has read it already (else it is read from `run_dir`)."""
    ledger = read_ledger(run_dir) if ledger is None else ledger
    waiter = _Waiter(drain_timeout_s=drain_timeout_s, poll_s=poll_s, clock=clock, sleep=sleep)
    return [_check(name, ledger, shards, queue, waiter) for name in names]


def _check(
    name: str, ledger: Ledger, shards: ShardSource, queue: QueueSource, waiter: _Waiter
) -> InvariantResult:
    users, jobs = {u.id for u in ledger.users}, {j.id for j in ledger.jobs}
    acknowledged = len(users) if name == "no_lost_writes" else len(jobs)
    try:
        if name == "no_lost_writes":
            return _writes(ledger, shards)
        if name == "no_lost_jobs":
            return _jobs(ledger, shards, queue, waiter)
        if name == "read_your_writes":
            return read_your_writes(ledger)
        if name == "single_primary":
            return single_primary(ledger)
    except HarnessError as exc:
        return InvariantResult(
            name=name, verdict="error", acknowledged=acknowledged, detail=exc.message
        )
    valid = ", ".join(INVARIANTS)
    return InvariantResult(name=name, verdict="error", detail=f"unknown invariant (valid: {valid})")


def _writes(ledger: Ledger, shards: ShardSource) -> InvariantResult:
    ids = sorted({user.id for user in ledger.users})
    found = (
        {shard: shards.users_present(shard, ids) for shard in range(shards.count)} if ids else {}
    )
    return no_lost_writes(ledger, found)


def read_job_rows(ledger: Ledger, shards: ShardSource) -> dict[str, JobRow]:
    """The rows of every acknowledged job, each read from its user's shard."""
    by_shard: dict[int, set[str]] = {}
    for job in ledger.jobs:
        by_shard.setdefault(shard_of(job.user_id), set()).add(job.id)
    rows: dict[str, JobRow] = {}
    for shard, ids in sorted(by_shard.items()):
        rows.update((row.id, row) for row in shards.job_rows(shard, sorted(ids)))
    return rows


class _Waiter:
    def __init__(
        self,
        *,
        drain_timeout_s: float,
        poll_s: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ):
        self.drain_timeout_s = drain_timeout_s
        self.poll_s = poll_s
        self.clock = clock
        self.sleep = sleep

    def wait_for_jobs(self, ledger: Ledger, shards: ShardSource) -> tuple[dict[str, JobRow], float]:
        """Poll until every acknowledged job is done or the drain timeout passes; the last rows
        read and the seconds waited."""
        started = self.clock()
        deadline = started + self.drain_timeout_s
        while True:
            rows = read_job_rows(ledger, shards)
            now = self.clock()
            if pending_jobs(ledger, rows) == 0 or now >= deadline:
                return rows, now - started
            self.sleep(min(self.poll_s, deadline - now))


def _jobs(
    ledger: Ledger, shards: ShardSource, queue: QueueSource, waiter: _Waiter
) -> InvariantResult:
    rows, waited = waiter.wait_for_jobs(ledger, shards) if ledger.jobs else ({}, 0.0)
    result = no_lost_jobs(ledger, rows)
    if not ledger.jobs:
        return result
    left = pending_jobs(ledger, rows)
    how = (
        f"waited {waited:.0f} s for the queue to drain"
        if not left
        else f"{left} not done after the {waiter.drain_timeout_s:g} s drain timeout"
    )
    detail = f"{result.detail}; {how}; {queue.stats().describe()}"
    return result.model_copy(update={"detail": detail})
