"""The data invariants as pure functions: the ledger against what the shards hold.

`no_lost_writes`: every user the stack acknowledged exists on shard `id % 4`. Lost: missing
everywhere, or found only on another shard (named in the examples). Duplicated: acknowledged
twice, or present on more than one shard; both corrupt data, so both fail the check. When users
are lost, the detail and the record also give the RPO: the time span the lost writes cover, from
the first to the last one's commit (`committed_at`, else its acknowledgement), and the count per
shard (`lost_span_s`, `lost_by_shard`).

`no_lost_jobs`: every acknowledged job's row is `done`. Lost: no row, or a row in another
state. Duplicated: done more than once (completions > 1); at-least-once delivery makes that
legal, so duplicates are counted and shown but do not fail the check.

`read_your_writes`: every user read back right after its 201 was found. The load generator reads
each new user at once (a signup lands on the profile page); a 404 there means the stack said
"created" before the row could be read (acknowledged before committed).

`single_primary`: no split brain. For each shard, the acknowledged writes (users, and jobs on
their owner's shard) are grouped by the node that committed them and its timeline (the ledger's
`node`, `timeline`); each group spans [first, last] `committed_at`. Two groups of different
nodes whose spans overlap mean two primaries took writes at once: the check fails and names the
shard, the nodes, their timelines, the overlap and a few of the writes in it. Writes whose
answer did not say where they were committed are not judged (counted in the detail). `lost`
counts the writes the superseded node (the lower timeline) committed during an overlap: what a
rejoin (pg_rewind) discards; both nodes' when their timelines do not tell which one lost.

Every check also counts the outcomes nobody saw (`unknown`, apart from `lost`): user writes
(`no_lost_writes`) and photo jobs (`no_lost_jobs`) whose POST got no answer or a 5xx, out of
attempted = acknowledged + unknown; read-backs answered with neither 200 nor 404. More than the
tolerance of `harness.invariants.unknown` fails the check: it could not see enough to vouch.

A check with nothing acknowledged verified nothing: its verdict is error, never pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from harness.invariants import unknown as unk
from harness.load.ledger import JobWrite, Ledger, UserWrite
from harness.ports import JobRow
from harness.record import InvariantResult
from harness.vocabulary import SHARD_COUNT, shard_nodes, shard_of

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


def _unreached(ledger: Ledger, op: str) -> str:
    """ "; 7 never reached the stack (no entry logged them: not written)", or ""."""
    n = sum(1 for u in ledger.unreached if u.op == op)
    return f"; {n} unanswered never reached the stack (no entry logged them)" if n else ""


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
    lost_ids: set[int] = set()
    for user_id in sorted(acked):
        where = shards_of.get(user_id, [])
        expected = user_id % SHARD_COUNT
        if expected not in where:
            found_on = f"on shard {', '.join(map(str, where))}" if where else "on no shard"
            lost.append(f"user {user_id} ({found_on}, expected shard {expected})")
            lost_ids.add(user_id)
    span, by_shard = _lost_span(ledger, lost_ids)
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
        + (f"; {_rpo(len(lost), span, by_shard)}" if lost else "")
        + f"; {unk.describe(unknown, attempted, 'user writes')}"
        + _unreached(ledger, "user")
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
        lost_span_s=span,
        lost_by_shard=by_shard,
    )


def _commit_time(write: UserWrite | JobWrite) -> float:
    """When a write was committed: the stack's `committed_at`, else its acknowledgement."""
    return write.t if write.committed_at is None else write.committed_at


def _lost_span(ledger: Ledger, lost: Collection[int]) -> tuple[float | None, dict[int, int]]:
    """The RPO of lost users: seconds from the first to the last one's commit (None: none
    lost), and how many were lost per shard (id % 4)."""
    times = [_commit_time(user) for user in ledger.users if user.id in lost]
    by_shard = Counter(user_id % SHARD_COUNT for user_id in lost)
    span = max(times) - min(times) if times else None
    return span, dict(sorted(by_shard.items()))


def _rpo(count: int, span: float | None, by_shard: Mapping[int, int]) -> str:
    """`3 lost, committed over 4.2 s (RPO: first to last lost write), by shard: shard 0: 3`."""
    shards = ", ".join(f"shard {shard}: {n}" for shard, n in by_shard.items())
    when = "" if span is None else f", committed over {span:.1f} s (RPO: first to last lost write)"
    return f"{count} lost{when}, by shard: {shards}"


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
    detail += f"; {unk.describe(unknown, attempted, 'photo jobs')}" + _unreached(ledger, "job")
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


@dataclass(frozen=True, kw_only=True)
class _Reign:
    """The acknowledged writes one node committed on one timeline, for one shard."""

    shard: int
    node: str
    timeline: int | None
    writes: tuple[tuple[float, str], ...]  # (committed_at, "user 12" / "job 3-0"), in time order

    @property
    def first(self) -> float:
        return self.writes[0][0]

    @property
    def last(self) -> float:
        return self.writes[-1][0]

    def label(self) -> str:
        timeline = "timeline unknown" if self.timeline is None else f"timeline {self.timeline}"
        return f"{self.node} ({timeline}, {len(self.writes)} writes)"

    def during(self, start: float, end: float) -> list[str]:
        return [what for at, what in self.writes if start <= at <= end]


@dataclass(frozen=True, kw_only=True)
class _SplitBrain:
    a: _Reign
    b: _Reign

    @property
    def start(self) -> float:
        return max(self.a.first, self.b.first)

    @property
    def end(self) -> float:
        return min(self.a.last, self.b.last)

    def losers(self) -> list[_Reign]:
        """Whose writes of the overlap a rejoin discards: the superseded node's (the lower
        timeline); both when the timelines do not tell."""
        ta, tb = self.a.timeline, self.b.timeline
        if ta is None or tb is None or ta == tb:
            return [self.a, self.b]
        return [self.a if ta < tb else self.b]

    def describe(self) -> str:
        examples = "; ".join(
            f"{', '.join(reign.during(self.start, self.end)[:3])} by {reign.node}"
            for reign in (self.a, self.b)
        )
        return (
            f"shard {self.a.shard}: {self.a.label()} and {self.b.label()} both took writes for "
            f"{self.end - self.start:.1f} s (e.g. {examples})"
        )


def _reigns(writes: Iterable[tuple[int, UserWrite | JobWrite, str]]) -> list[_Reign]:
    """The judged writes (a node of their own shard and a commit time) grouped by shard, node
    and timeline."""
    groups: dict[tuple[int, str, int | None], list[tuple[float, str]]] = {}
    for shard, write, what in writes:
        if write.node in shard_nodes(shard) and write.committed_at is not None:
            key = (shard, write.node, write.timeline)
            groups.setdefault(key, []).append((write.committed_at, what))
    return [
        _Reign(shard=shard, node=node, timeline=timeline, writes=tuple(sorted(found)))
        for (shard, node, timeline), found in groups.items()
    ]


def _split_brains(reigns: Sequence[_Reign]) -> list[_SplitBrain]:
    """Every pair of reigns of one shard, on different nodes, whose spans overlap."""
    ordered = sorted(reigns, key=lambda r: (r.shard, r.first, r.node))
    return [
        _SplitBrain(a=a, b=b)
        for a, b in combinations(ordered, 2)
        if a.shard == b.shard and a.node != b.node and max(a.first, b.first) <= min(a.last, b.last)
    ]


def _unjudged(writes: Sequence[tuple[int, UserWrite | JobWrite, str]]) -> str:
    """What was not judged, and why: `12 without commit info, 3 committed by a node not of
    their shard (e.g. 'unknown')`."""
    bare = 0
    foreign: Counter[str] = Counter()
    for shard, write, _ in writes:
        if write.node is None or write.committed_at is None:
            bare += 1
        elif write.node not in shard_nodes(shard):
            foreign[write.node] += 1
    parts = [f"{bare} without commit info (node, commit time)"] if bare else []
    if foreign:
        names = ", ".join(repr(n) for n, _ in foreign.most_common(3))
        parts.append(f"{foreign.total()} committed by a node not of their shard (e.g. {names})")
    return ", ".join(parts)


def single_primary(ledger: Ledger) -> InvariantResult:
    """Judge the acknowledged writes' committing nodes: per shard, never two nodes taking
    writes in overlapping time (see the module docstring)."""
    writes: list[tuple[int, UserWrite | JobWrite, str]] = [
        (u.shard, u, f"user {u.id}") for u in ledger.users
    ]
    writes += [(shard_of(j.user_id), j, f"job {j.id}") for j in ledger.jobs]
    reigns = _reigns(writes)
    judged = sum(len(r.writes) for r in reigns)
    unjudged = _unjudged(writes) if judged < len(writes) else ""
    if not judged:
        seen = (
            f"{len(writes)} writes acknowledged, none judged: {unjudged} (an older ledger, or "
            "a stack without the X-Committed-By and X-Commit-Time headers?)"
            if writes
            else "the load generator saw no user or photo job write acknowledged"
        )
        return InvariantResult(
            name="single_primary", verdict="error", detail=f"{seen}; so nothing was checked"
        )
    conflicts = _split_brains(reigns)
    # Every write either side committed while the other also did: which side's survive is
    # for no_lost_writes to say (the shard's primary after recovery), not for the timelines:
    # a node promoted over and over without the witness climbs to the higher ones.
    at_risk = sorted(
        {(at, what, r.node) for c in conflicts for r in (c.a, c.b) for at, what in r.writes
         if c.start <= at <= c.end}
    )  # fmt: skip
    shards: dict[int, list[_Reign]] = {}
    for reign in sorted(reigns, key=lambda r: (r.shard, r.first)):
        shards.setdefault(reign.shard, []).append(reign)
    history = "; ".join(
        f"shard {shard}: " + " then ".join(r.label() for r in found)
        for shard, found in shards.items()
    )
    if conflicts:
        by_shard: dict[int, list[_SplitBrain]] = {}
        for conflict in conflicts:
            by_shard.setdefault(conflict.a.shard, []).append(conflict)
        parts = []
        for shard, found in sorted(by_shard.items()):
            nodes = sorted({r.node for c in found for r in (c.a, c.b)})
            overlap = sum(c.end - c.start for c in found)
            parts.append(
                f"shard {shard}: {' and '.join(nodes)} took writes at the same time "
                f"{len(found)} times, {overlap:.1f} s in all (first: {found[0].describe()})"
            )
        finding = (
            f"split brain: {'; '.join(parts)}; {len(at_risk)} writes committed during the "
            "overlaps (which side's survive: no_lost_writes)"
        )
    else:
        finding = f"one primary at a time on every shard ({history})"
    not_judged = f" ({unjudged}: not judged)" if unjudged else ""
    return InvariantResult(
        name="single_primary",
        verdict="fail" if conflicts else "pass",
        acknowledged=judged,
        found=judged - len(at_risk),
        lost=len(at_risk),
        detail=f"{judged} acknowledged writes with their committing node{not_judged}: {finding}",
        lost_examples=_examples(
            f"{what} (committed by {node} during a split brain)" for _, what, node in at_risk
        ),
    )


def pending_jobs(ledger: Ledger, job_rows: Mapping[str, JobRow]) -> int:
    """How many acknowledged jobs are not done yet (the drain wait's condition)."""
    ids = {job.id for job in ledger.jobs}
    return sum(1 for i in ids if (row := job_rows.get(i)) is None or row.status != "done")
