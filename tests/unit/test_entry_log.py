"""Which unanswered writes reached the stack: the entries' log lines, and the ledger resolved
by them."""

from __future__ import annotations

from harness.invariants.checks import no_lost_writes
from harness.load.ledger import Ledger, UnknownWrite, UserWrite
from harness.stack.entry_log import request_ids

# HAProxy 2.6 httplog lines as entry.cfg makes them: the captured X-Request-Id in braces.
PREFIX = "172.20.0.5:41234 [01/Dec/2026:15:30:00.123] entry us-east/web1 "
LOG = "\n".join([
    PREFIX + '0/0/1/5/6 201 245 - - ---- 3/3/0/0/0 0/0 {1f3a-42} "POST /users HTTP/1.1"',
    PREFIX + '0/0/1/5/6 200 120 - - ---- 3/3/0/0/0 0/0 {} "GET /users/4 HTTP/1.1"',
    PREFIX + '0/0/-1/-1/1001 503 0 - - CD-- 3/3/0/0/0 0/0 {1f3a-43} "POST /users/4/photos',
    "[NOTICE]   (1) : New worker (8) forked",
])  # fmt: skip


def test_request_ids_are_the_captured_ids_of_every_logged_request() -> None:
    assert request_ids(LOG) == {"1f3a-42", "1f3a-43"}
    assert request_ids("") == set()
    # a brace block elsewhere in a line (a notice) is not a capture before a request
    assert request_ids("[WARNING] {not-a-request}\n") == set()


def unknown(request_id: str, op: str = "user") -> UnknownWrite:
    return UnknownWrite(
        op=op, home="us-east", served="none", status=0, user_id=None, t=1.0,
        request_id=request_id,
    )  # fmt: skip


def ledger(*unknowns: UnknownWrite) -> Ledger:
    users = tuple(UserWrite(id=i, shard=i % 4, home="us-east", served="us-east", t=1.0)
                  for i in range(1, 21))  # fmt: skip
    return Ledger(users=users, jobs=(), files=1, skipped_lines=0, unknowns=unknowns)


def test_unknown_writes_no_entry_logged_never_reached_the_stack() -> None:
    before = ledger(unknown("a-1"), unknown("a-2"), unknown("a-3"), unknown(""))
    after = before.resolve_unreached(frozenset({"a-2"}))
    # a-1 and a-3: no entry logged them; a-2 reached an entry (still unknown); no id: unknown
    assert [u.request_id for u in after.unknowns] == ["a-2", ""]
    assert [u.request_id for u in after.unreached] == ["a-1", "a-3"]
    assert before.resolve_unreached(frozenset({"a-1", "a-2", "a-3"})) is before


FOUND = {s: [i for i in range(1, 21) if i % 4 == s] for s in range(4)}


def test_the_invariant_counts_only_what_reached_the_stack_as_unknown_and_says_the_rest() -> None:
    many = ledger(*(unknown(f"a-{i}") for i in range(8)))
    assert no_lost_writes(many, FOUND).verdict == "fail"
    resolved = many.resolve_unreached(frozenset({"a-0"}))
    result = no_lost_writes(resolved, FOUND)
    assert (result.verdict, result.unknown) == ("pass", 1)
    assert "7 unanswered never reached the stack (no entry logged them)" in result.detail
