"""Running the invariants with fake shards and queue: the drain wait and unreachable stores."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.invariants.checks import JobRow
from harness.invariants.run import check_invariants, read_job_rows
from harness.load.ledger import read_ledger
from harness.record import InvariantResult
from tests.fakes import FakeClock, FakeQueue, FakeShards


def write_ledger(run_dir: Path, users: Sequence[int], jobs: Sequence[tuple[str, int]]) -> Path:
    (run_dir / "ledger").mkdir(parents=True)
    lines = [
        {"kind": "user", "id": i, "shard": i % 4, "home": "us-east", "served": "us-east", "t": 1.0}
        for i in users
    ]
    lines += [
        {"kind": "job", "id": j, "user_id": u, "home": "us-east", "served": "us-east", "t": 2.0}
        for j, u in jobs
    ]
    (run_dir / "ledger" / "1.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return run_dir


def run(
    tmp_path: Path,
    shards: FakeShards,
    queue: FakeQueue | None = None,
    names: Sequence[str] = ("no_lost_jobs",),
    timeout: float = 10.0,
) -> tuple[list[InvariantResult], FakeClock]:
    clock = FakeClock()
    results = check_invariants(
        names,
        tmp_path,
        drain_timeout_s=timeout,
        clock=clock,
        sleep=clock.sleep,
        shards=shards,
        queue=queue or FakeQueue(),
    )
    return results, clock


JOBS = [("a", 1), ("b", 2), ("c", 6)]


def test_waits_until_every_job_is_done(tmp_path: Path) -> None:
    write_ledger(tmp_path, [], JOBS)
    [result], clock = run(tmp_path, FakeShards({}, {"a": 0, "b": 3, "c": 1}))
    assert result.verdict == "pass" and result.found == 3
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert "waited 3 s" in result.detail and "2 pending" in result.detail


def test_no_wait_when_already_done(tmp_path: Path) -> None:
    write_ledger(tmp_path, [], JOBS)
    [result], clock = run(tmp_path, FakeShards({}, {"a": 0, "b": 0, "c": 0}))
    assert result.verdict == "pass" and clock.sleeps == []


def test_gives_up_at_the_drain_timeout(tmp_path: Path) -> None:
    write_ledger(tmp_path, [], JOBS)
    [result], clock = run(tmp_path, FakeShards({}, {"a": 0, "b": -1, "c": -2}), timeout=4.5)
    assert result.verdict == "fail" and result.lost == 2
    assert clock.now == 4.5 and clock.sleeps[-1] == 0.5
    assert result.lost_examples == ["job b (queued)", "job c (no row)"]
    assert "2 not done after the 4.5 s drain timeout" in result.detail


def test_jobs_are_read_from_their_users_shard(tmp_path: Path) -> None:
    write_ledger(tmp_path, [], JOBS)
    seen: dict[int, list[str]] = {}

    class Recording(FakeShards):
        def job_rows(self, shard: int, ids: Sequence[str]) -> list[JobRow]:
            seen[shard] = list(ids)
            return super().job_rows(shard, ids)

    read_job_rows(read_ledger(tmp_path), Recording({}, {"a": 0, "b": 0, "c": 0}))
    assert seen == {1: ["a"], 2: ["b", "c"]}


def test_writes_are_looked_up_on_every_shard(tmp_path: Path) -> None:
    write_ledger(tmp_path, [1, 2, 6], [])
    shards = FakeShards({1: {1}, 2: {2}, 3: {6}}, {})
    [result], _ = run(tmp_path, shards, names=["no_lost_writes"])
    assert result.verdict == "fail"
    assert result.lost_examples == ["user 6 (on shard 3, expected shard 2)"]


@pytest.mark.parametrize(
    ("shards_broken", "queue_broken", "message"),
    [(True, False, "shard-"), (False, True, "the queue at redis://x")],
)
def test_unreachable_store_is_an_error(
    tmp_path: Path, shards_broken: bool, queue_broken: bool, message: str
) -> None:
    write_ledger(tmp_path, [1], JOBS)
    shards = FakeShards({1: {1}}, {"a": 0, "b": 0, "c": 0}, broken=shards_broken)
    results, _ = run(
        tmp_path, shards, FakeQueue(broken=queue_broken), names=["no_lost_writes", "no_lost_jobs"]
    )
    jobs = results[1]
    assert jobs.verdict == "error" and message in jobs.detail and jobs.acknowledged == 3
    assert results[0].verdict == ("error" if shards_broken else "pass")


def test_unknown_invariant_is_an_error(tmp_path: Path) -> None:
    [result], _ = run(tmp_path, FakeShards({}, {}), names=["no_gremlins"])
    assert result.verdict == "error" and "no_lost_writes" in result.detail


def test_an_empty_ledger_checks_nothing(tmp_path: Path) -> None:
    results, clock = run(tmp_path, FakeShards({}, {}), names=["no_lost_writes", "no_lost_jobs"])
    assert [r.verdict for r in results] == ["error", "error"]
    assert clock.sleeps == []
