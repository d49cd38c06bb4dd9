"""Warm a running stack up before a run's load: reads through each region's entry that open
the web tier's database connections, so that the first seconds of the load do not measure
connections being made.

Why: a web replica opens its pools lazily (min_size 0: it starts while its shards are down),
one connection per concurrent request, each a PostgreSQL backend started over the WAN link.
On a freshly started stack the first 5-8 s of a 40-user load then showed p95s of 0.4-3.7 s,
server side (`web_db_seconds`), and failed the `steady` phase's latency SLOs of runs whose
system was healthy; a stack that had just served a run did not. Users of a real system
meet warm pools; a gate must not fail on the harness's own cold start.

What it sends: GET /users/<id> for ids that no user has (far above the sequence), `rounds`
times `concurrency` at once per region, the ids spread over every shard. A user the
region's copy does not have is asked of the primary too (read-your-writes), so both pools
of every shard fill, up to `concurrency` connections each. Nothing is written. The answers
expected are 404s; what else comes back is counted and said, never raised: the run's own
checks judge the stack, this only prepares it. Traffic goes to the entries' loopback
addresses only, bounded in count and time.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from harness.errors import InfraError
from harness.stack import topology as t
from harness.vocabulary import HOME_HEADER

NOT_SENT = "not sent (deadline)"
NO_ADDRESS = "not sent (no address)"
FIRST_ID = 9_000_000_000_000  # no user has such an id: the shards' sequence starts at 1
TIMEOUT_S = 5.0  # per request
DEADLINE_S = 30.0  # for the whole warm-up


@dataclass(frozen=True, kw_only=True)
class WarmUp:
    requests: int
    answers: dict[str, int]  # "404" (expected), another status, "error", or not sent and why
    seconds: float

    def summary(self) -> str:
        said = ", ".join(f"{n} {answer}" for answer, n in sorted(self.answers.items()))
        return f"{self.requests} reads in {self.seconds:.1f} s ({said})"


def warm_up(
    url_of: Callable[[str], str],
    regions: tuple[str, ...] = t.REGIONS,
    *,
    concurrency: int = 8,
    rounds: int = 3,
    deadline_s: float = DEADLINE_S,
    clock: Callable[[], float] = time.monotonic,
) -> WarmUp:
    """`url_of(region)`: where that region's users are sent now (the entry's base URL)."""
    started = clock()
    answers: Counter[str] = Counter()
    urls = {}
    for region in regions:
        try:
            urls[region] = url_of(region)
        except InfraError:  # no DNS answer: the run's own checks will say so
            answers[NO_ADDRESS] += rounds * concurrency * t.SHARD_COUNT
    per_round = concurrency * t.SHARD_COUNT  # concurrency requests to every shard at once
    with ThreadPoolExecutor(max_workers=per_round, thread_name_prefix="warm-up") as pool:
        for number in range(rounds):
            if clock() - started > deadline_s:
                answers[NOT_SENT] += per_round * len(urls) * (rounds - number)
                break
            ids = range(FIRST_ID + number * per_round, FIRST_ID + (number + 1) * per_round)
            for region, url in urls.items():
                for answer in pool.map(lambda i, r=region, u=url: _read(u, r, i), ids):
                    answers[answer] += 1
    sent = sum(n for answer, n in answers.items() if answer not in (NOT_SENT, NO_ADDRESS))
    return WarmUp(requests=sent, answers=dict(answers), seconds=clock() - started)


def _read(url: str, region: str, user_id: int) -> str:
    try:
        resp = requests.get(
            f"{url}/users/{user_id}", headers={HOME_HEADER: region}, timeout=TIMEOUT_S
        )
    except requests.RequestException:
        return "error"
    resp.close()
    return str(resp.status_code)
