"""How a simulated user finds the service: an A query with its region's client subnet, cached.

The stack's DNS server answers SERVICE_NAME by the EDNS Client Subnet (ECS) of the query:
the home region's entry while it is healthy, else the other region's. `query_a` asks it the
way a stub resolver would (UDP, TCP again when the answer is truncated, a bounded timeout);
`CachingResolver` is one user's cache of that answer, so a request costs a clock read and a
comparison, not a DNS round trip. No Locust import: the locustfile wires these to its users.

    ResolveError      no usable answer: timeout, unreachable, SERVFAIL, NXDOMAIN, no A record
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

from harness.stack.dns_query import (
    DEFAULT_TIMEOUT_S,
    OTHER_REGION,
    Answer,
    Query,
    ResolveError,
    dns_query,
    ecs_option,
    query_a,
    region_of_address,
)

__all__ = [  # the query's names, for the locustfile and the tests that know them from here
    "DEFAULT_TIMEOUT_S",
    "OTHER_REGION",
    "Answer",
    "CachingResolver",
    "Query",
    "ResolveError",
    "ResolveObserver",
    "dns_query",
    "ecs_option",
    "query_a",
    "region_of_address",
]  # fmt: skip

# After a failed refresh, how long the last answer serves before asking again: RFC 8767's
# failure recheck timer (30 s), scaled to runs of a minute or two as the stack's TTLs are.
# Without it every request of a user would wait out a DNS timeout while the server is down.
RETRY_S = 5.0


class ResolveObserver(Protocol):
    """Told of every answer and failed question (harness.load.client_metrics implements it)."""

    def dns_answer(self, *, region: str, answered: str) -> None: ...

    def dns_failure(self, *, region: str) -> None: ...


class _Unobserved:
    def dns_answer(self, *, region: str, answered: str) -> None:
        pass

    def dns_failure(self, *, region: str) -> None:
        pass


class CachingResolver:
    """One client's cache of the service's address, as a stub resolver keeps it.

    `address()` returns the cached answer until it expires after its TTL, or after `keep_s`
    for a client that ignores TTLs (it keeps every answer that long, whatever the TTL said),
    then asks `query` again. A failed refresh keeps the last answer for another `retry_s`
    (serve-stale) and counts the failure; with no answer ever, it raises ResolveError. Each
    answer is reported to `observer` with the region it points at (region_of_address).
    """

    def __init__(
        self,
        *,
        query: Query,
        region: str,
        clock: Callable[[], float] = time.monotonic,
        keep_s: float | None = None,
        retry_s: float = RETRY_S,
        observer: ResolveObserver | None = None,
    ):
        if keep_s is not None and keep_s <= 0:
            raise ValueError(f"keep_s must be > 0, got {keep_s}")
        self.region = region
        self.keep_s = keep_s
        self.retry_s = retry_s
        self.failures = 0
        self.answered_region: str | None = None  # the region of the last answer
        self._query, self._clock = query, clock
        self._observer: ResolveObserver = observer or _Unobserved()
        self._address = ""
        self._until = -math.inf

    def address(self) -> str:
        """The service's address for this client: the cached answer while it lasts (the hot
        path: one clock read, one comparison), else a fresh one. ResolveError with none."""
        if self._clock() < self._until:
            return self._address
        return self._refresh()

    def _refresh(self) -> str:
        if self._address:
            # Other greenlets sharing this cache keep the current answer while this one asks
            # (a resolver sends one question for many waiting clients).
            self._until = math.inf
        try:
            answer = self._query(self.region)
        except ResolveError:
            self.failures += 1
            self._observer.dns_failure(region=self.region)
            if not self._address:
                self._until = -math.inf
                raise
            self._until = self._clock() + self.retry_s
            return self._address
        except BaseException:
            self._until = -math.inf  # killed while asking: the next caller asks again
            raise
        self._address = answer.address
        self.answered_region = region_of_address(answer.address)
        self._observer.dns_answer(region=self.region, answered=self.answered_region)
        kept = answer.ttl_s if self.keep_s is None else self.keep_s
        self._until = self._clock() + kept  # the TTL counts from the answer's arrival
        return self._address
