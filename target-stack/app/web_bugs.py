"""The web tier's seeded bugs: test-only switches that make it wrong in one known way each, so
the bundled scenarios can show that the gate fails (scenarios/README.md, the verdict table).

ack_before_commit (BUG_ACK_BEFORE_COMMIT=1): answer 201 before the user row is committed; see
WriteBehind. shared_db_pool (BUG_SHARED_DB_POOL=1): no bulkhead between shards; every query of
the process waits for one of SHARED_DB_SLOTS, so one slow (hot) shard holds them all and the
queries to the other shards wait behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from clients import Shards
from common import describe, env_flag
from prometheus_client import Counter

BUG_ACK_BEFORE_COMMIT = env_flag("BUG_ACK_BEFORE_COMMIT")
BUG_SHARED_DB_POOL = env_flag("BUG_SHARED_DB_POOL")
# Every few seconds, as such write-behind buffers go: long enough that a region cut off from its
# shards holds several acknowledged rows when it happens (a loss the invariants must see every
# time, not by luck), short enough that a run's last rows are written before it is judged.
WRITE_BEHIND_S = 5.0
SHARED_DB_SLOTS = 2

DROPPED_ROWS = Counter(
    "web_write_behind_dropped_total", "Acknowledged rows never written (seeded bug)", ["region"]
)


def db_slots() -> contextlib.AbstractAsyncContextManager[object]:
    """What every shard query enters first: nothing on a healthy stack, one shared semaphore
    for all shards with the shared_db_pool bug."""
    return asyncio.Semaphore(SHARED_DB_SLOTS) if BUG_SHARED_DB_POOL else contextlib.nullcontext()


class WriteBehind:
    """The seeded bug `ack_before_commit`, a classic "make signups faster" mistake: the row is
    acknowledged at once and written with others every WRITE_BEHIND_S. Until then a read of
    the new user finds nothing, and a batch that cannot be written (its shard is unreachable,
    the process stops) is dropped with a log line: acknowledged rows are lost."""

    def __init__(self, shards: Shards, region: str, log: logging.Logger):
        self._shards = shards
        self._region = region
        self._log = log
        self._pending: dict[int, list[tuple[int, str, str]]] = {}

    def add(self, shard: int, row: tuple[int, str, str]) -> None:
        self._pending.setdefault(shard, []).append(row)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(WRITE_BEHIND_S)
            batches, self._pending = self._pending, {}
            for shard, rows in batches.items():
                try:
                    await self._shards.run(
                        shard,
                        "executemany",
                        "INSERT INTO users (id, name, region) VALUES ($1, $2, $3)",
                        rows,
                    )
                except Exception as exc:
                    DROPPED_ROWS.labels(self._region).inc(len(rows))
                    self._log.error(
                        "dropped %d acknowledged rows of shard %d: %s",
                        len(rows),
                        shard,
                        describe(exc),
                    )
