"""How a region outage moved its users through DNS, derived after the run from recorded series.

The geo DNS server answers each region's users (their client subnet) with their region's
entry while its health check passes, else the other region's; each user then goes where its
cached answer says until the answer's TTL runs out. For the failed region this module tells:
when the DNS answer for its users first stopped being home (detected), when it first named
another region (answer changed), and when the last of its users had moved (from then until the
fault's end, at least `moved_share` of their requests were served by another region); then the
same for the way back after the fault's end, when the data shows it. Times are seconds from
the fault's start (away) or end (back). A bound to compare with: a check may take a whole
interval to see the outage, and a user who resolved just before the answer changed keeps the
old answer a whole TTL, so no worst-case objective can ask for less than interval + TTL.

Inputs, harness.record.Series as a Prometheus range query gives them (points [unix time,
value], one a step; a missing point or a NaN is no data, not a value):

- answers: what the DNS server answered a prober that presents each region's subnet, one line
  per (client region, answered region), labels `client_region` and `answer_region`; value: the
  number of that step's answers naming that region, or 1 while it is the answer and 0 while
  not (e.g. `max by (client_region, answer_region) (harness_dns_answer)`). At each time the
  region with the most answers is the answer; a tie is `mixed`. An `answer_region` that is no
  region (say `none` for SERVFAIL or a timeout) is an answer that is not home.
- requests: the users' requests by home and serving region, labels `region` (the home region,
  as on the client's metrics) and `served_region` (`none`: no region answered); value: requests
  or a rate (only shares are used), e.g. `sum by (region, served_region)
  (rate(harness_client_requests_total[5s]))`. A user still sent to the dead entry shows as
  served by `none` (or by the failed region, if it still answers), so it has not moved.

Other labels (a chart's `legend`) are ignored, so charts of these queries in
`harness.slo.charts` feed it straight from a RunRecord's `series`, as `failover.py` is fed.
A clean failover is one change of the answered region; flapping counts every change (no
answer or a tie between them is no region). A change first seen after the prober's silence
says so. Pure.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from itertools import pairwise

from harness.record import Series
from harness.vocabulary import REGIONS

CLIENT_LABEL = "client_region"
ANSWER_LABEL = "answer_region"
HOME_LABEL = "region"
SERVED_LABEL = "served_region"
MIXED = "mixed"  # two regions answered equally often in one step
DNS_FAILOVER = "dns_failover"  # the kind of the run's event that carries a breakdown


@dataclass(frozen=True, kw_only=True)
class Move:
    """One direction: away from the failed region (from the fault's start) or back (from its
    end). Each time is seconds from `start`; None: not seen."""

    start: float
    detected_s: float | None  # the answer for the region's users first not home
    answer_changed_s: float | None  # ... first the region they should move to
    answer_gap_s: float | None  # the prober's silence right before that change was seen
    answer_changes: int  # between regions; 1: clean, more: flapping
    answered: bool  # any answer for the region's users in the window
    last_client_moved_s: float | None
    left_behind: float | None  # share not moved in the window's last step with requests


@dataclass(frozen=True, kw_only=True)
class DnsFailover:
    """The breakdown of one region's outage; `summary` says it in a line."""

    region: str
    away: Move
    back: Move | None  # None: the fault has no end, or nothing was recorded after it
    check_interval_s: float
    ttl_s: float

    @property
    def summary(self) -> str:
        """One line for people: "us-east: detected in 3 s, DNS answer changed at 3 s, ..."."""
        bound = self.check_interval_s + self.ttl_s
        text = f"{self.region}: {_away_text(self.region, self.away)} (check interval "
        text += f"{_s(self.check_interval_s)} + TTL {_s(self.ttl_s)} = {_s(bound)}: "
        text += "the last client that honours the TTL moves by then)"
        if self.back is not None:
            text += f"; back: {_back_text(self.region, self.back)}"
        return text


def dns_failover(
    *,
    region: str,
    fault_start: float,
    fault_end: float | None,
    answers: list[Series],
    requests: list[Series],
    check_interval_s: float,
    ttl_s: float,
    step_s: float = 1.0,
    moved_share: float = 0.99,
) -> DnsFailover:
    """The failover breakdown of `region`'s outage from `fault_start` to `fault_end`."""
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}; regions: {list(REGIONS)}")
    others = frozenset(REGIONS) - {region}
    seen = _answers(answers, region)
    served = _served(requests, region)
    until = math.inf if fault_end is None else fault_end
    move = partial(_move, seen=seen, served=served, step_s=step_s, moved_share=moved_share)
    home = frozenset({region})
    away = move(start=fault_start, until=until, leaving=home, to=others)
    back = None
    if fault_end is not None and any(t >= fault_end for t, _ in seen):
        back = move(start=fault_end, until=math.inf, leaving=others | {MIXED}, to=home)
    return DnsFailover(
        region=region, away=away, back=back, check_interval_s=check_interval_s, ttl_s=ttl_s
    )


def _move(
    *,
    seen: list[tuple[float, str]],
    served: dict[float, dict[str, float]],
    start: float,
    until: float,
    leaving: frozenset[str],
    to: frozenset[str],
    step_s: float,
    moved_share: float,
) -> Move:
    """The move from `leaving` (the answers users had) to `to` within [start, until)."""
    window = [(t, a) for t, a in seen if start <= t < until]
    changed = next((i for i, (_, a) in enumerate(window) if a in to), None)
    gap = None
    if changed is not None and changed > 0:
        silent = window[changed][0] - window[changed - 1][0]
        gap = silent - step_s if silent > 1.5 * step_s else None
    shares = [(t, share) for t, share in _shares(served, to) if start <= t < until]
    moved, left = _moved(shares, moved_share)
    return Move(
        start=start,
        detected_s=next((t - start for t, a in window if a not in leaving), None),
        answer_changed_s=None if changed is None else window[changed][0] - start,
        answer_gap_s=gap,
        answer_changes=_changes([a for _, a in window]),
        answered=bool(window),
        last_client_moved_s=None if moved is None else moved - start,
        left_behind=left,
    )


def _changes(answers: list[str]) -> int:
    """How often the answered region changed: no answer or a tie between two is no region,
    so home -> none -> other is one change."""
    regions = [a for a in answers if a in REGIONS]
    return sum(a != b for a, b in pairwise(regions))


def _value(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _answers(lines: list[Series], client: str) -> list[tuple[float, str]]:
    """The answer for `client`'s subnet at each time there is one, in time order."""
    counts: dict[float, dict[str, float]] = defaultdict(dict)
    for line in lines:
        if line.labels.get(CLIENT_LABEL) != client:
            continue
        answer = line.labels.get(ANSWER_LABEL, "none")
        for t, v in line.points:
            value = _value(v)
            if value is not None and value > 0:
                counts[t][answer] = counts[t].get(answer, 0.0) + value
    found = []
    for t in sorted(counts):
        most = max(counts[t].values())
        top = [a for a, n in counts[t].items() if n == most]
        found.append((t, top[0] if len(top) == 1 else MIXED))
    return found


def _served(lines: list[Series], home: str) -> dict[float, dict[str, float]]:
    """Per time, `home`'s users' requests by serving region."""
    by_t: dict[float, dict[str, float]] = defaultdict(dict)
    for line in lines:
        if line.labels.get(HOME_LABEL) != home:
            continue
        region = line.labels.get(SERVED_LABEL, "none")
        for t, v in line.points:
            value = _value(v)
            if value is not None:
                by_t[t][region] = by_t[t].get(region, 0.0) + value
    return by_t


def _shares(served: dict[float, dict[str, float]], to: frozenset[str]) -> list[tuple[float, float]]:
    """Per time with requests, the share served by a region of `to`, in time order."""
    found = []
    for t in sorted(served):
        total = sum(served[t].values())
        if total > 0:
            found.append((t, sum(n for r, n in served[t].items() if r in to) / total))
    return found


def _moved(
    shares: list[tuple[float, float]], moved_share: float
) -> tuple[float | None, float | None]:
    """(when the last client had moved, the share left behind at the last time with requests):
    moved from the first time after the last one below `moved_share`; None while the last one
    is still below it (stale)."""
    if not shares:
        return None, None
    left = 1.0 - shares[-1][1]
    if shares[-1][1] < moved_share:
        return None, left
    last_short = max((i for i, (_, s) in enumerate(shares) if s < moved_share), default=-1)
    return shares[last_short + 1][0], left


def _s(seconds: float) -> str:
    return f"{seconds:.0f} s"


def _away_text(region: str, m: Move) -> str:
    if not m.answered:
        return f"no DNS answers recorded for {region}'s users during the fault"
    parts = []
    if m.detected_s is None:
        parts.append(f"the DNS answer for {region}'s users never left {region} during the fault")
    else:
        parts.append(f"detected in {_s(m.detected_s)}")
        if m.answer_changed_s is None:
            parts.append("DNS answer never changed to another region")
        else:
            parts.append(f"DNS answer changed at {_s(m.answer_changed_s)}{_gap(m)}{_flaps(m)}")
    parts.append(_clients(region, m, "moved", f"still sent to {region}"))
    return ", ".join(parts)


def _back_text(region: str, m: Move) -> str:
    if m.answer_changed_s is None:
        answer = f"DNS answer never returned to {region}"
    else:
        answer = f"DNS answer home at {_s(m.answer_changed_s)}{_gap(m)}{_flaps(m)}"
    return f"{answer}, {_clients(region, m, 'back', f'not yet back in {region}')}"


def _gap(m: Move) -> str:
    if m.answer_gap_s is None:
        return ""
    return f" (first seen after {_s(m.answer_gap_s)} without answers)"


def _flaps(m: Move) -> str:
    return f" (flapping: {m.answer_changes} changes)" if m.answer_changes > 1 else ""


def _clients(region: str, m: Move, verb: str, stale: str) -> str:
    if m.left_behind is None:
        return f"no requests of {region}'s users seen"
    if m.last_client_moved_s is None:
        return f"clients never {verb}: {m.left_behind:.0%} of requests {stale} at the end (stale)"
    return f"last client {verb} at {_s(m.last_client_moved_s)}"
