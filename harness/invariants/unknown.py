"""Outcomes nobody saw (Jepsen's `unknown`): how many an invariant tolerates, and how it says so.

A write whose POST got no answer (a timeout, a reset), a 5xx, or a body that could not be read
may or may not have happened; a read-back without a 200 or 404 says nothing about the row. They
are counted apart from `lost`, and a check is only as good as the share of outcomes it saw: an
invariant that passes with most of its writes unknown verified little. So above a tolerance the
unknowns fail the invariant.

Why 5%, never under 5: the bundled outage scenarios allow an error ratio of 5% while a region
is down (and 1% once it is back), and every failed POST or read-back is an unknown. On a healthy
stack the router retries and fails over within seconds, so the whole run's share of unknown
writes stays well under the fault phase's budget (the fault phase is part of the run); a stack
that exceeds it fails its error budget as well. The floor of 5 keeps a short run (2 requests
cut in flight out of 20) from failing on the few requests any cut catches mid-way.
"""

from __future__ import annotations

UNKNOWN_TOLERANCE = 0.05  # the share of attempts whose outcome may go unseen
UNKNOWN_FLOOR = 5  # never fewer than this many tolerated


def tolerated(attempted: int) -> int:
    """How many unknown outcomes of `attempted` still let the invariant pass."""
    return max(UNKNOWN_FLOOR, int(UNKNOWN_TOLERANCE * attempted))


def over(unknown: int, attempted: int) -> bool:
    return unknown > tolerated(attempted)


def describe(unknown: int, attempted: int, what: str) -> str:
    """`3 of 120 writes unknown (2.5%, tolerance 5%, at least 5: up to 6)`, with why they
    fail when over it."""
    share = unknown / attempted if attempted else 0.0
    text = (
        f"{unknown} of {attempted} {what} unknown ({share:.1%}, tolerance "
        f"{UNKNOWN_TOLERANCE:.0%}, at least {UNKNOWN_FLOOR}: up to {tolerated(attempted)})"
    )
    if over(unknown, attempted):
        text += ": too many outcomes unseen to vouch for the data"
    return text
