"""Connections to the queue (Redis) and the shards (PostgreSQL), shared by web.py and worker.py.

Both programs must start while their dependencies are still down and recover by themselves when
they come back, and no call may hang: every connect, command and pool wait has a timeout.
"""

from __future__ import annotations

import asyncio

import asyncpg
import redis.asyncio as aioredis
from common import GROUP, STREAM, Settings, env_flag
from redis.exceptions import ResponseError

CONNECT_TIMEOUT = 2.0
# Seeded bug sticky_primary: writes stay with the node first found as a shard's primary.
BUG_STICKY_PRIMARY = env_flag("BUG_STICKY_PRIMARY")
COMMAND_TIMEOUT = 2.0

# Errors that mean "the connection is broken, or no longer to the node it should be" (a
# primary demoted under it answers read-only), after which the pool's connections are
# replaced: a multi-host pool then finds whichever node takes writes now.
CONNECTION_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.AdminShutdownError,
)


def make_redis(settings: Settings, timeout: float = COMMAND_TIMEOUT) -> aioredis.Redis:
    """A Redis client; it connects on first use and reconnects after errors by itself."""
    host, port = settings.queue_addr
    return aioredis.Redis(
        host=host,
        port=port,
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=min(1.0, timeout),
    )


class StatelessConnection(asyncpg.Connection):
    """A pooled connection for code that keeps no session state: no SET, no advisory lock, no
    LISTEN, no cursor (nothing in web.py or worker.py does). asyncpg's reset on release runs
    pg_advisory_unlock_all(), CLOSE ALL, UNLISTEN * and RESET ALL: a second round trip for every
    query. On a write to the other region's primary that is a second WAN round trip (measured:
    225 -> 153 ms p50 with synchronous replication, 153 -> 81 ms with async), and on the health
    probes, three a second into each web replica, it cost more than the probe itself. So only an
    open transaction is rolled back: a pool must never hand one out."""

    async def reset(self, *, timeout: float | None = None) -> None:
        if self.is_in_transaction():
            await self.execute("ROLLBACK", timeout=timeout)


async def ensure_group(queue: aioredis.Redis) -> None:
    """XGROUP CREATE photo-jobs photo-workers $ MKSTREAM; an existing group is fine."""
    try:
        await queue.xgroup_create(STREAM, GROUP, id="$", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class Shards:
    """One asyncpg pool per shard, created on first use.

    These are the region's own copies (reads); `Primaries` below is where writes go.

    min_size=0 means creating a pool never needs the database, so a program starts while its
    shards are down; a pool reconnects closed connections on acquire, and after a connection
    error we expire its connections so stale ones (e.g. behind a proxy that went away) are
    replaced instead of failing one by one.
    """

    def __init__(
        self,
        settings: Settings,
        max_size: int,
        timeout: float = COMMAND_TIMEOUT,
    ):
        self._settings = settings
        self._max_size = max_size
        self._timeout = timeout
        self._pools: dict[int, asyncpg.Pool] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def _pool(self, shard: int) -> asyncpg.Pool:
        pool = self._pools.get(shard)
        if pool is None:
            # One lock per shard: finding one shard's primary never holds up the others.
            async with self._locks.setdefault(shard, asyncio.Lock()):
                pool = self._pools.get(shard)
                if pool is None:
                    host, port = await self._address(shard)
                    pool = await asyncpg.create_pool(
                        host=host,
                        port=port,
                        user=self._settings.db_user,
                        database=self._settings.db_name,
                        min_size=0,
                        max_size=self._max_size,
                        timeout=min(CONNECT_TIMEOUT, self._timeout),
                        command_timeout=self._timeout,
                        # Don't keep idle connections forever; the proxies may be reset.
                        max_inactive_connection_lifetime=60,
                        connection_class=StatelessConnection,
                    )
                    self._pools[shard] = pool
        return pool

    async def _address(self, shard: int) -> tuple[str, int]:
        return self._settings.shard_addrs[shard]

    async def run(self, shard: int, method: str, query: str, *args):
        """Run `query` with the pool connection's `method` (fetchrow, fetchval, execute)."""
        pool = await self._pool(shard)
        try:
            async with pool.acquire(timeout=self._timeout) as conn:
                return await getattr(conn, method)(query, *args, timeout=self._timeout)
        except CONNECTION_ERRORS:
            await self._forget(shard, pool)
            raise

    async def _forget(self, shard: int, pool: asyncpg.Pool) -> None:
        await pool.expire_connections()

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.terminate()


class NoPrimary(ConnectionRefusedError):
    """No node of the shard takes writes now (during a failover): nothing was sent to any."""


class Primaries(Shards):
    """Where writes go: per shard, a pool to whichever of its nodes (in SHARD_WRITE_ADDRS,
    this region's first) is the primary now, found by asking each `pg_is_in_recovery()`.

    The pool is dropped at the first connection error or read-only answer (a primary demoted
    under it), and the next write looks again, so after a failover writes find the new
    primary by themselves: what libpq's target_session_attrs=read-write does, which
    asyncpg 0.27 does not have."""

    async def _address(self, shard: int) -> tuple[str, int]:
        nodes = self._settings.shard_write_addrs or [[a] for a in self._settings.shard_addrs]
        seen = []
        for host, port in nodes[shard]:
            try:
                conn = await asyncpg.connect(
                    host=host,
                    port=port,
                    user=self._settings.db_user,
                    database=self._settings.db_name,
                    timeout=min(CONNECT_TIMEOUT, self._timeout),
                    command_timeout=self._timeout,
                )
                try:
                    standby = await conn.fetchval("SELECT pg_is_in_recovery()")
                finally:
                    await conn.close(timeout=1)
            except CONNECTION_ERRORS as exc:
                seen.append(f"{host}:{port} {type(exc).__name__}")
                continue
            if not standby:
                return host, port
            seen.append(f"{host}:{port} standby")
        raise NoPrimary(f"no primary for shard {shard} ({', '.join(seen)})")

    async def read(self, shard: int, method: str, query: str, *args):
        """A read that must see what the primary has (a row the region's copy does not have
        yet). A read succeeds on a standby as well, so the pool's node is asked first: one
        that is no longer the primary (demoted, rewound, lagging) is dropped, not read."""
        pool = await self._pool(shard)
        try:
            async with pool.acquire(timeout=self._timeout) as conn:
                if await conn.fetchval("SELECT pg_is_in_recovery()", timeout=self._timeout):
                    raise NoPrimary(f"shard {shard}: the node found as primary is a standby now")
                return await getattr(conn, method)(query, *args, timeout=self._timeout)
        except (*CONNECTION_ERRORS, NoPrimary):
            await self._forget(shard, pool)
            raise

    async def _forget(self, shard: int, pool: asyncpg.Pool) -> None:
        if BUG_STICKY_PRIMARY:  # seeded bug: keep the node, only its connections are new
            await pool.expire_connections()
            return
        # The next write finds the primary again: this one may have been demoted or be gone.
        if self._pools.get(shard) is pool:
            del self._pools[shard]
        pool.terminate()
