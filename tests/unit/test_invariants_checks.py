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
from harness.load.ledger import JobWrite, Ledger, ReadBack, UnknownWrite, UserWrite


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
    assert (result.verdict, result.acknowledged, result.found, result.lost) == ("fail", 5, 1, 2)
    assert result.unknown == 2
    assert result.lost_examples == [
        "user 5 (404 right after its 201)",
        "user 9 (404 right after its 201)",
    ]
    assert "2 of 5 read-backs unknown (40.0%, tolerance 5%, at least 5: up to 5)" in result.detail


def test_read_your_writes_passes_when_every_answer_found_the_user() -> None:
    result = read_your_writes(readbacks((4, 200), (8, 200), (13, 503)))
    assert (result.verdict, result.found, result.lost, result.unknown) == ("pass", 2, 0, 1)


def test_read_your_writes_without_an_answered_read_back_is_an_error() -> None:
    result = read_your_writes(readbacks((4, 503), (8, 0)))
    assert (result.verdict, result.unknown) == ("error", 2)
    assert "2 with an outcome nobody saw" in result.detail


# --- unknown outcomes: clean, lost, unknown under and over the tolerance, per invariant -----
def unknowns(op: str, n: int, status: int = 0) -> tuple[UnknownWrite, ...]:
    return tuple(
        UnknownWrite(op=op, home="us-east", served="none", status=status, user_id=None, t=3.0)
        for _ in range(n)
    )


def with_unknowns(base: Ledger, *extra: UnknownWrite) -> Ledger:
    return Ledger(
        users=base.users,
        jobs=base.jobs,
        readbacks=base.readbacks,
        unknowns=extra,
        files=1,
        skipped_lines=0,
    )


USERS_120 = list(range(1, 121))
HOME_120 = {s: {i for i in USERS_120 if i % 4 == s} for s in range(4)}
# 120 acknowledged + 3 unknown = 123 attempted: up to max(5, 6) = 6 unknown tolerated.
WRITE_CASES = [
    pytest.param(USERS_120, HOME_120, 0, "pass", 0, id="clean"),
    pytest.param([*USERS_120, 999], HOME_120, 0, "fail", 1, id="lost"),
    pytest.param(USERS_120, HOME_120, 3, "pass", 0, id="unknown under tolerance"),
    pytest.param(USERS_120, HOME_120, 7, "fail", 0, id="unknown over tolerance"),
    pytest.param(USERS_120[:20], HOME_120, 2, "pass", 0, id="2 of 22 under the floor"),
    pytest.param(USERS_120[:20], HOME_120, 6, "fail", 0, id="6 of 26 over the floor"),
]


@pytest.mark.parametrize(("acked", "found", "n_unknown", "verdict", "lost"), WRITE_CASES)
def test_no_lost_writes_counts_unknown_user_writes(
    acked: list[int], found: dict[int, set[int]], n_unknown: int, verdict: str, lost: int
) -> None:
    # Job unknowns are no_lost_jobs' business and must not count here.
    extra = unknowns("user", n_unknown) + unknowns("job", 50, status=503)
    result = no_lost_writes(with_unknowns(ledger(users=acked), *extra), found)
    assert (result.verdict, result.lost, result.unknown) == (verdict, lost, n_unknown)
    attempted = len(set(acked)) + n_unknown
    assert result.unknown_tolerated == max(5, int(0.05 * attempted))
    share = f"{n_unknown / attempted:.1%}"
    assert f"{n_unknown} of {attempted} user writes unknown ({share}, tolerance 5%" in result.detail
    assert ("too many outcomes unseen" in result.detail) == (n_unknown > result.unknown_tolerated)


JOBS_120 = [(f"{i}-0", i) for i in range(1, 121)]
DONE_120 = {j: row(j) for j, _ in JOBS_120}


@pytest.mark.parametrize(
    ("jobs", "n_unknown", "verdict", "lost"),
    [
        pytest.param(JOBS_120, 0, "pass", 0, id="clean"),
        pytest.param([*JOBS_120, ("999-0", 1)], 0, "fail", 1, id="lost"),
        pytest.param(JOBS_120, 6, "pass", 0, id="unknown under tolerance"),
        pytest.param(JOBS_120, 8, "fail", 0, id="unknown over tolerance"),
    ],
)
def test_no_lost_jobs_counts_unknown_jobs(
    jobs: list[tuple[str, int]], n_unknown: int, verdict: str, lost: int
) -> None:
    extra = unknowns("job", n_unknown, status=502) + unknowns("user", 50)
    result = no_lost_jobs(with_unknowns(ledger(jobs=jobs), *extra), DONE_120)
    assert (result.verdict, result.lost, result.unknown) == (verdict, lost, n_unknown)
    assert f"{n_unknown} of {len(jobs) + n_unknown} photo jobs unknown" in result.detail


@pytest.mark.parametrize(
    ("statuses", "verdict", "lost", "n_unknown"),
    [
        pytest.param([200] * 100, "pass", 0, 0, id="clean"),
        pytest.param([200] * 99 + [404], "fail", 1, 0, id="lost"),
        pytest.param([200] * 95 + [0, 503, 500, 504, 0], "pass", 0, 5, id="unknown under"),
        pytest.param([200] * 94 + [0] * 3 + [503] * 3, "fail", 0, 6, id="unknown over"),
    ],
)
def test_read_your_writes_counts_unknown_read_backs(
    statuses: list[int], verdict: str, lost: int, n_unknown: int
) -> None:
    result = read_your_writes(readbacks(*enumerate(statuses)))
    assert (result.verdict, result.lost, result.unknown) == (verdict, lost, n_unknown)
    assert result.acknowledged == len(statuses) and result.unknown_tolerated == 5
    assert f"{n_unknown} of {len(statuses)} read-backs unknown" in result.detail


def test_unknowns_without_an_acknowledged_write_are_still_an_error() -> None:
    result = no_lost_writes(with_unknowns(ledger(), *unknowns("user", 4)), {})
    assert (result.verdict, result.unknown) == ("error", 4)
