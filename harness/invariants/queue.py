"""Reading the photo queue directly (Redis Streams over redis-py), bounded in time.

For the invariant's detail: how many entries the stream holds, how many the consumer group
delivered but nobody acknowledged (a dead consumer's jobs that were never reclaimed), and how
many it has not delivered yet (lag).
"""

from __future__ import annotations

import redis

from harness.errors import InfraError
from harness.ports import QueueStats
from harness.stack.topology import QUEUE_GROUP, QUEUE_STREAM

LAG_SCAN_MAX = 10_000  # entries read at most to count a lag Redis does not know


class QueueReader:
    """Stream length, the consumer group's pending count and lag, with socket timeouts
    (implements `harness.ports.QueueSource`)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        stream: str = QUEUE_STREAM,
        group: str = QUEUE_GROUP,
    ):
        self.url = url
        self.stream = stream
        self.group = group
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
        )

    def stats(self) -> QueueStats:
        try:
            if not self._client.exists(self.stream):
                return QueueStats(length=0, pending=0, lag=0)
            length = int(self._client.xlen(self.stream))
            groups = self._client.xinfo_groups(self.stream)
        except redis.RedisError as exc:
            raise InfraError(
                f"the queue at {self.url} could not be read: {' '.join(str(exc).split())}",
                hint="is the queue container up and reachable? (docker ps)",
            ) from exc
        group = next((g for g in groups if g.get("name") == self.group), None)
        if group is None:
            return QueueStats(length=length, pending=0, lag=length)
        lag = group.get("lag")
        if lag is None:
            # Redis 7 answers no lag when its count of entries the group has read is not
            # valid (after a consumer group is created at an ID of its own, XGROUP SETID,
            # deletions...): count what lies after the last delivered entry instead.
            lag = self._after(str(group.get("last-delivered-id") or "0-0"))
        return QueueStats(
            length=length,
            pending=int(group.get("pending") or 0),
            lag=None if lag is None else int(lag),
        )

    def _after(self, last_id: str) -> int | None:
        """How many entries follow `last_id`; None when more than LAG_SCAN_MAX do (a count
        beyond that is not read, to keep the read bounded)."""
        try:
            entries = self._client.xrange(
                self.stream, min=f"({last_id}", max="+", count=LAG_SCAN_MAX + 1
            )
        except redis.RedisError:
            return None
        found = len(entries or [])
        return found if found <= LAG_SCAN_MAX else None

    def close(self) -> None:
        self._client.close()


class RegionQueues:
    """Every region's queue, read as one (implements `harness.ports.QueueSource`): each region
    queues its own jobs, and the invariant asks what is left in any of them."""

    def __init__(self, urls: dict[str, str], *, timeout_s: float = 5.0):
        self.readers = [QueueReader(url, timeout_s=timeout_s) for url in urls.values()]

    def stats(self) -> QueueStats:
        parts = [reader.stats() for reader in self.readers]
        lags = [p.lag for p in parts]
        return QueueStats(
            length=sum(p.length for p in parts),
            pending=sum(p.pending for p in parts),
            lag=None if any(lag is None for lag in lags) else sum(lag or 0 for lag in lags),
        )

    def close(self) -> None:
        for reader in self.readers:
            reader.close()
