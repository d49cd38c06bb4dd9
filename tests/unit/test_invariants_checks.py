"""The pure invariant checks, from a ledger and recorded shard contents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from harness.invariants.checks import (
    JobRow,
    no_lost_jobs,
    no_lost_writes,
    pending_jobs,
    read_your_writes,
)
from harness.load.ledger import JobWrite, Ledger, ReadBack, UserWrite


def ledger(users: Sequence[int] = (), jobs: Sequence[tuple[str, int]] = ()) -> Ledger:
    return Ledger(
        users=tuple(
            UserWrite(id=i, shard=i % 4, home="us-east", served="us-east", t=1.0) for i in users
        ),
        jobs=tuple(
            JobWrite(id=j, user_id=u, home="us-west", served="us-east", t=2.0) for j, u in jobs
        ),
        files=1,
        skipped_lines=0,
    )


ALL_HOME = {0: {4, 8}, 1: {1, 5}, 2: {2}, 3: {3}}


@pytest.mark.parametrize(
    ("acked", "found", "verdict", "counts", "examples"),
    [
        pytest.param([1, 2, 3, 4, 5, 8], ALL_HOME, "pass", (6, 6, 0, 0), [], id="all home"),
        pytest.param(
            [1, 2, 3, 4, 5, 8, 9],
            ALL_HOME,
            "fail",
            (7, 6, 1, 0),
            ["user 9 (on no shard, expected shard 1)"],
            id="one missing",
        ),
        pytest.param(
            [1, 2],
            {0: {2}, 1: {1}},
            "fail",
            (2, 1, 1, 0),
            ["user 2 (on shard 0, expected shard 2)"],
            id="on the wrong shard is lost",
        ),
        pytest.param(
            [1, 2], {1: {1}, 2: {2}, 3: {2}}, "fail", (2, 2, 0, 1), [], id="on two shards"
        ),
        pytest.param(
            [1, 1, 2], {1: {1}, 2: {2}}, "fail", (2, 2, 0, 1), [], id="acknowledged twice"
        ),
        pytest.param(
            [1],
            {0: set(), 1: {1, 77}},
            "pass",
            (1, 1, 0, 0),
            [],
            id="unacknowledged rows are not counted",
        ),
    ],
)
def test_no_lost_writes(
    acked: list[int],
    found: Mapping[int, set[int]],
    verdict: str,
    counts: tuple[int, int, int, int],
    examples: list[str],
) -> None:
    result = no_lost_writes(ledger(users=acked), found)
    assert result.name == "no_lost_writes"
    assert result.verdict == verdict
    assert (result.acknowledged, result.found, result.lost, result.duplicated) == counts
    assert result.lost_examples == examples


def test_lost_examples_are_capped_at_ten() -> None:
    result = no_lost_writes(ledger(users=range(1, 26)), {})
    assert result.lost == 25
    assert len(result.lost_examples) == 10


def test_duplicates_are_named_in_the_detail() -> None:
    result = no_lost_writes(ledger(users=[5]), {1: {5}, 2: {5}})
    assert "present on more than one shard" in result.detail and "5" in result.detail


def row(job_id: str, status: str = "done", completions: int = 1) -> JobRow:
    return JobRow(id=job_id, status=status, completions=completions)


JOBS = [("1-0", 1), ("2-0", 2), ("3-0", 3)]


@pytest.mark.parametrize(
    ("rows", "verdict", "counts", "examples"),
    [
        pytest.param([row("1-0"), row("2-0"), row("3-0")], "pass", (3, 3, 0, 0), [], id="all done"),
        pytest.param(
            [row("1-0"), row("3-0")], "fail", (3, 2, 1, 0), ["job 2-0 (no row)"], id="missing row"
        ),
        pytest.param(
            [row("1-0"), row("2-0", "queued", 0), row("3-0", "processing", 0)],
            "fail",
            (3, 1, 2, 0),
            ["job 2-0 (queued)", "job 3-0 (processing)"],
            id="not done",
        ),
        pytest.param(
            [row("1-0", completions=2), row("2-0", completions=3), row("3-0")],
            "pass",
            (3, 3, 0, 2),
            [],
            id="duplicates shown, not failed",
        ),
    ],
)
def test_no_lost_jobs(
    rows: list[JobRow], verdict: str, counts: tuple[int, int, int, int], examples: list[str]
) -> None:
    result = no_lost_jobs(ledger(jobs=JOBS), {r.id: r for r in rows})
    assert result.verdict == verdict
    assert (result.acknowledged, result.found, result.lost, result.duplicated) == counts
    assert result.lost_examples == examples


def test_duplicate_jobs_are_explained() -> None:
    result = no_lost_jobs(ledger(jobs=JOBS[:1]), {"1-0": row("1-0", completions=3)})
    assert "2 extra completions" in result.detail and "at-least-once" in result.detail


def test_a_job_acknowledged_twice_counts_once() -> None:
    result = no_lost_jobs(ledger(jobs=[("1-0", 1), ("1-0", 1)]), {"1-0": row("1-0")})
    assert (result.verdict, result.acknowledged) == ("pass", 1)


@pytest.mark.parametrize("check", ["writes", "jobs"])
def test_nothing_acknowledged_is_an_error_not_a_pass(check: str) -> None:
    result = no_lost_writes(ledger(), {0: {4}}) if check == "writes" else no_lost_jobs(ledger(), {})
    assert result.verdict == "error"
    assert "nothing was checked" in result.detail


def test_pending_jobs() -> None:
    rows = {"1-0": row("1-0"), "2-0": row("2-0", "queued", 0)}
    assert pending_jobs(ledger(jobs=JOBS), rows) == 2


def readbacks(*statuses: tuple[int, int]) -> Ledger:
    backs = tuple(ReadBack(id=i, status=s, t=0.0) for i, s in statuses)
    return Ledger(users=(), jobs=(), readbacks=backs, files=1, skipped_lines=0)


def test_read_your_writes_fails_on_a_404_right_after_the_201() -> None:
    result = read_your_writes(readbacks((4, 200), (5, 404), (9, 404), (13, 503), (17, 0)))
    assert (result.verdict, result.acknowledged, result.found, result.lost) == ("fail", 3, 1, 2)
    assert result.lost_examples == [
        "user 5 (404 right after its 201)",
        "user 9 (404 right after its 201)",
    ]
    assert "2 read-backs got no answer or an error and were not judged" in result.detail


def test_read_your_writes_passes_when_every_answer_found_the_user() -> None:
    result = read_your_writes(readbacks((4, 200), (8, 200), (13, 503)))
    assert (result.verdict, result.found, result.lost) == ("pass", 2, 0)


def test_read_your_writes_without_an_answered_read_back_is_an_error() -> None:
    assert read_your_writes(readbacks((4, 503), (8, 0))).verdict == "error"
