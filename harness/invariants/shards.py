"""Reading the shards directly (PostgreSQL over psycopg 3), bounded in time.

Every connection has a connect timeout and a server-side statement_timeout, so a hung or
paused shard turns into an InfraError naming the shard, never a hang. Read-only queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from harness.errors import InfraError
from harness.ports import JobRow


class ShardReader:
    """Queries the shards by index (0..n-1, in `urls` order); implements
    `harness.ports.ShardSource`. Connections are reused across
    polls and dropped after a failure; `close()` ends them."""

    def __init__(
        self,
        urls: Sequence[str | Sequence[str]],
        *,
        connect_timeout_s: int = 5,
        statement_timeout_ms: int = 5000,
    ):
        # A shard given as its nodes' URLs is read on whichever is the primary now (libpq's
        # multi-host URL with target_session_attrs=read-write): what survived is what the
        # primary holds after recovery, not what some copy holds.
        self.urls = tuple(u if isinstance(u, str) else primary_url(u) for u in urls)
        self.connect_timeout_s = max(2, connect_timeout_s)  # libpq treats less than 2 as 2
        self.statement_timeout_ms = statement_timeout_ms
        self._connections: dict[int, psycopg.Connection] = {}

    @property
    def count(self) -> int:
        return len(self.urls)

    def users_present(self, shard: int, ids: Sequence[int]) -> set[int]:
        """Which of `ids` exist in the shard's users table."""
        if not ids:
            return set()
        rows = self._query(shard, "SELECT id FROM users WHERE id = ANY(%s)", list(ids))
        return {int(row[0]) for row in rows}

    def job_rows(self, shard: int, ids: Sequence[str]) -> list[JobRow]:
        """The rows of the shard's jobs table among `ids`."""
        if not ids:
            return []
        sql = "SELECT id, status, completions FROM jobs WHERE id = ANY(%s)"
        rows = self._query(shard, sql, list(ids))
        return [JobRow(id=str(r[0]), status=str(r[1]), completions=int(r[2])) for r in rows]

    def _query(self, shard: int, sql: str, ids: list[int] | list[str]) -> list[tuple[Any, ...]]:
        try:
            with self._connection(shard).cursor() as cursor:
                cursor.execute(sql, (ids,))
                return cursor.fetchall()
        except psycopg.Error as exc:
            self._drop(shard)
            raise InfraError(
                f"shard-{shard} at {self.urls[shard]} could not be read: {_one_line(exc)}",
                hint="is the shard container up and reachable? (docker ps)",
            ) from exc

    def _connection(self, shard: int) -> psycopg.Connection:
        if shard not in self._connections:
            self._connections[shard] = psycopg.connect(
                self.urls[shard],
                connect_timeout=self.connect_timeout_s,
                options=f"-c statement_timeout={self.statement_timeout_ms}",
                autocommit=True,
            )
        return self._connections[shard]

    def _drop(self, shard: int) -> None:
        connection = self._connections.pop(shard, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for shard in list(self._connections):
            self._drop(shard)


def primary_url(node_urls: Sequence[str]) -> str:
    """One libpq URL for a shard's nodes (postgresql://u@h1:p1/db, postgresql://u@h2:p2/db ->
    postgresql://u@h1:p1,h2:p2/db?target_session_attrs=read-write)."""
    if len(node_urls) == 1:
        return node_urls[0]
    prefix, rest = node_urls[0].split("@", 1)
    database = rest.split("/", 1)[1]
    hosts = ",".join(url.split("@", 1)[1].split("/", 1)[0] for url in node_urls)
    return f"{prefix}@{hosts}/{database}?target_session_attrs=read-write"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
