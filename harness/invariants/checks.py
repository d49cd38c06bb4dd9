"""The data invariants as pure functions: the ledger against what the shards hold.

`no_lost_writes`: every user the stack acknowledged exists on shard `id % 4`. Lost: missing
everywhere, or found only on another shard (named in the examples). Duplicated: acknowledged
twice, or present on more than one shard; both corrupt data, so both fail the check.

`no_lost_jobs`: every acknowledged job's row is `done`. Lost: no row, or a row in another
state. Duplicated: done more than once (completions > 1); at-least-once delivery makes that
legal, so duplicates are counted and shown but do not fail the check.

`read_your_writes`: every user read back right after its 201 was found. The load generator reads
each new user at once (a signup lands on the profile page); a 404 there means the stack said
"created" before the row could be read (acknowledged before committed).

Every check also counts the outcomes nobody saw (`unknown`, apart from `lost`): user writes
(`no_lost_writes`) and photo jobs (`no_lost_jobs`) whose POST got no answer or a 5xx, out of
attempted = acknowledged + unknown; read-backs answered with neither 200 nor 404. More than the
tolerance of `harness.invariants.unknown` fails the check: it could not see enough to vouch.

A check with nothing acknowledged verified nothing: its verdict is error, never pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping

from harness.invariants import unknown as unk
from harness.load.ledger import Ledger
from harness.ports import JobRow
from harness.record import InvariantResult
from harness.vocabulary import SHARD_COUNT

MAX_EXAMPLES = 10


def _examples(items: Iterable[str]) -> list[str]:
    return list(items)[:MAX_EXAMPLES]


def _nothing(name: str, what: str, unknown: int = 0) -> InvariantResult:
    unseen = f" ({unknown} with an outcome nobody saw)" if unknown else ""
    return InvariantResult(
        name=name,
        verdict="error",
        unknown=unknown,
        detail=f"the load generator saw no {what} acknowledged{unseen}, so nothing was checked "
        "(does the scenario's load include that task, and did any request succeed?)",
    )


def _unknown_writes(ledger: Ledger, op: str) -> int:
    return sum(1 for u in ledger.unknowns if u.op == op)


def no_lost_writes(
    ledger: Ledger, found_user_ids_by_shard: Mapping[int, Collection[int]]
) -> InvariantResult:
    """Judge the acknowledged users against the ids each shard holds (among those asked)."""
    acked = Counter(user.id for user in ledger.users)
    unknown = _unknown_writes(ledger, "user")
    if not acked:
        return _nothing("no_lost_writes", "user write", unknown)
    shards_of: dict[int, list[int]] = {}
    for shard, ids in sorted(found_user_ids_by_shard.items()):
        for user_id in ids:
            shards_of.setdefault(user_id, []).append(shard)
    lost: list[str] = []
    for user_id in sorted(acked):
        where = shards_of.get(user_id, [])
        expected = user_id % SHARD_COUNT
        if expected not in where:
            found_on = f"on shard {', '.join(map(str, where))}" if where else "on no shard"
            lost.append(f"user {user_id} ({found_on}, expected shard {expected})")
    twice = {i for i, n in acked.items() if n > 1}
    spread = {i for i in acked if len(shards_of.get(i, [])) > 1}
    duplicated = twice | spread
    found = len(acked) - len(lost)
    attempted = len(acked) + unknown  # a POST either got its 201 or its outcome is unknown
    detail = (
        f"{len(acked)} users acknowledged, {found} on their shard (id % {SHARD_COUNT})"
        + (f"; {len(twice)} acknowledged more than once" if twice else "")
        + (f"; {len(spread)} present on more than one shard" if spread else "")
        + (f" (e.g. {', '.join(map(str, sorted(duplicated)[:5]))})" if duplicated else "")
        + f"; {unk.describe(unknown, attempted, 'user writes')}"
    )
    return InvariantResult(
        name="no_lost_writes",
        verdict="fail" if lost or duplicated or unk.over(unknown, attempted) else "pass",
        acknowledged=len(acked),
        found=found,
        lost=len(lost),
        duplicated=len(duplicated),
        unknown=unknown,
        unknown_tolerated=unk.tolerated(attempted),
        detail=detail,
        lost_examples=_examples(lost),
    )


def no_lost_jobs(ledger: Ledger, job_rows: Mapping[str, JobRow]) -> InvariantResult:
    """Judge the acknowledged jobs against their rows (id -> row; a missing id has no row)."""
    acked = sorted({job.id for job in ledger.jobs})
    unknown = _unknown_writes(ledger, "job")
    if not acked:
        return _nothing("no_lost_jobs", "photo job", unknown)
    lost: list[str] = []
    repeated: list[JobRow] = []
    for job_id in acked:
        row = job_rows.get(job_id)
        if row is None:
            lost.append(f"job {job_id} (no row)")
        elif row.status != "done":
            lost.append(f"job {job_id} ({row.status})")
        elif row.completions > 1:
            repeated.append(row)
    extra = sum(row.completions - 1 for row in repeated)
    detail = f"{len(acked)} jobs acknowledged, {len(acked) - len(lost)} done"
    if repeated:
        detail += (
            f"; {len(repeated)} done more than once ({extra} extra completions): "
            "legal under at-least-once delivery, shown but not failed"
        )
    attempted = len(acked) + unknown
    detail += f"; {unk.describe(unknown, attempted, 'photo jobs')}"
    return InvariantResult(
        name="no_lost_jobs",
        verdict="fail" if lost or unk.over(unknown, attempted) else "pass",
        acknowledged=len(acked),
        found=len(acked) - len(lost),
        lost=len(lost),
        duplicated=len(repeated),
        unknown=unknown,
        unknown_tolerated=unk.tolerated(attempted),
        detail=detail,
        lost_examples=_examples(lost),
    )


def read_your_writes(ledger: Ledger) -> InvariantResult:
    """Judge the read-backs: each must have found the user its 201 acknowledged. One answered
    with neither 200 nor 404 (no answer, a 5xx) is unknown: it says nothing either way."""
    answered = [r for r in ledger.readbacks if r.status in (200, 404)]
    unknown = len(ledger.readbacks) - len(answered)
    if not answered:
        return _nothing("read_your_writes", "user read back after its write", unknown)
    missing = sorted({r.id for r in answered if r.status == 404})
    attempted = len(ledger.readbacks)
    detail = (
        f"{attempted} users read back right after their 201, "
        f"{len(answered) - len(missing)} found"
        + (f", {len(missing)} not found (404): acknowledged before readable" if missing else "")
        + f"; {unk.describe(unknown, attempted, 'read-backs')}"
    )
    return InvariantResult(
        name="read_your_writes",
        verdict="fail" if missing or unk.over(unknown, attempted) else "pass",
        acknowledged=attempted,
        found=len(answered) - len(missing),
        lost=len(missing),
        unknown=unknown,
        unknown_tolerated=unk.tolerated(attempted),
        detail=detail,
        lost_examples=_examples(f"user {i} (404 right after its 201)" for i in missing),
    )


def pending_jobs(ledger: Ledger, job_rows: Mapping[str, JobRow]) -> int:
    """How many acknowledged jobs are not done yet (the drain wait's condition)."""
    ids = {job.id for job in ledger.jobs}
    return sum(1 for i in ids if (row := job_rows.get(i)) is None or row.status != "done")
