"""The stateless web tier of one region: the users/photos API in front of the shards and queue.

Every answer carries X-Served-Region, so the load generator can see which region served it
(failover is visible). Dependency failures become fast 503s with a JSON error, never hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid

from aiohttp import web
from clients import NoPrimary, Primaries, Shards, ensure_group, make_redis
from common import (
    API_ROUTES,
    DB_ROLES,
    GROUP,
    OPS,
    SHARD_COUNT,
    STREAM,
    Settings,
    describe,
    drop_default_collectors,
    env_flag,
    precreated_requests,
    setup_logging,
    shard_of,
    timeline_of_walfile,
    user_of_job,
)
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from web_bugs import BUG_ACK_BEFORE_COMMIT, BUG_SHARED_DB_POOL, WriteBehind, db_slots

SETTINGS = Settings.from_env()
REGION = SETTINGS.region
log = setup_logging("web", REGION)
BUG_STALE_READS = env_flag("BUG_STALE_READS")

REQUESTS = Counter(
    "web_requests_total", "HTTP requests answered", ["region", "route", "method", "status"]
)
REQUEST_SECONDS = Histogram("web_request_seconds", "HTTP request latency", ["region", "route"])
DB_SECONDS = Histogram(
    "web_db_seconds", "Shard query latency, by the node's role", ["region", "shard", "role"]
)
DB_ERRORS = Counter("web_db_errors_total", "Failed shard queries", ["region", "shard"])
QUEUE_ERRORS = Counter("web_queue_errors_total", "Failed queue calls", ["region"])
# The queue as the producer sees it, so it is measured even while every worker is dead.
QUEUE_BACKLOG = Gauge(
    "web_queue_backlog", "Stream entries not yet delivered to the worker group", ["region"]
)
QUEUE_PENDING = Gauge(
    "web_queue_pending", "Entries delivered to a worker and not yet acknowledged", ["region"]
)


def precreate_metrics() -> None:
    """The series the SLOs read, at 0 before the first request (see common.API_ROUTES): a
    few dozen children, most of which every run creates anyway, so scrapes stay small."""
    for route, method, status in precreated_requests():
        REQUESTS.labels(REGION, route, method, status)
    for _, route, _ in API_ROUTES:
        REQUEST_SECONDS.labels(REGION, route)
    for shard in range(SHARD_COUNT):
        DB_ERRORS.labels(REGION, str(shard))
        for role in DB_ROLES:
            DB_SECONDS.labels(REGION, str(shard), role)
    QUEUE_ERRORS.labels(REGION)


precreate_metrics()
# Probes are not traffic: counting them would put the entries' health checks into error ratios.
UNMETERED_ROUTES = {"/healthz", "/metrics"}
HEALTH_TIMEOUT = 0.5


class Unavailable(Exception):
    """A dependency failed: answered as 503."""


class NotWritten(Unavailable):
    """A write that was never sent to a database (no shard node took writes): answered 503
    with `X-Write-Outcome: not-written`, so the client can tell it from a write whose outcome
    is unknown (a timeout or a failure midway may have committed)."""


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def db(
    request: web.Request,
    shard: int,
    op: str,
    method: str,
    query: str,
    *args,
    primary=False,
    verified=False,
):
    """One shard query, timed and counted; any failure becomes Unavailable (503). Reads go
    to the region's own copy; `primary=True` (every write) to the shard's primary, wherever
    it is now; `verified=True` (a read that must see the primary's data) checks first that
    the node is the primary still."""
    started = time.perf_counter()
    pools = request.app["primaries" if primary else "shards"]
    call = pools.read if verified else pools.run
    try:
        # The wait for a shared slot is timed too: it is what a starved shard's callers feel.
        async with request.app["db_slots"]:
            return await call(shard, method, query, *args)
    except Exception as exc:
        DB_ERRORS.labels(REGION, str(shard)).inc()
        kind = NotWritten if isinstance(exc, NoPrimary) else Unavailable
        raise kind(f"shard {shard} ({op}): {describe(exc)}") from exc
    finally:
        role = "primary" if primary else "local_copy"
        DB_SECONDS.labels(REGION, str(shard), role).observe(time.perf_counter() - started)


async def read(request: web.Request, shard: int, op: str, method: str, query: str, *args):
    """A read from the region's own copy. What it cannot answer (a row it does not have yet:
    a user's own write still on its way over the WAN, or the copy itself down) is asked of
    the primary, so a user always reads their own writes. The seeded bug stale_reads stops at
    the local copy."""
    try:
        found = await db(request, shard, op, method, query, *args)
    except Unavailable:
        if BUG_STALE_READS:
            raise
        return await db(request, shard, op, method, query, *args, primary=True, verified=True)
    if found is None and not BUG_STALE_READS:
        return await db(request, shard, op, method, query, *args, primary=True, verified=True)
    return found


# What every write returns besides its own columns: where and when it was committed.
COMMIT_COLUMNS = (
    "current_setting('chaos.node', true) AS node,"
    " pg_walfile_name(pg_current_wal_lsn()) AS walfile,"
    " extract(epoch from clock_timestamp())::float8 AS committed_at"
)


def commit_headers(row) -> dict[str, str]:
    """X-Committed-By (the node), X-Commit-Timeline (its timeline: one more at each
    promotion) and X-Commit-Time (seconds since the epoch, the stack's clock)."""
    return {
        "X-Committed-By": row["node"] or "unknown",
        "X-Commit-Timeline": str(timeline_of_walfile(row["walfile"])),
        "X-Commit-Time": f"{row['committed_at']:.6f}",
    }


async def read_json(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(reason="body is not JSON") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="body must be a JSON object")
    return body


def as_int(value) -> int | None:
    """Ints only (JSON true/false are bools in Python, which are ints)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def create_user(request: web.Request) -> web.Response:
    body = await read_json(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        return error(400, "name must be a non-empty string")
    shard = body.get("shard")
    if shard is None:
        shard = random.randrange(SHARD_COUNT)
    elif as_int(shard) is None or not 0 <= shard < SHARD_COUNT:
        return error(400, f"shard must be an integer 0..{SHARD_COUNT - 1}")
    if BUG_ACK_BEFORE_COMMIT:
        user_id = await db(
            request,
            shard,
            "reserve_id",
            "fetchval",
            "SELECT nextval('user_seq') * $1 + $2",
            SHARD_COUNT,
            shard,
            primary=True,
        )
        request.app["write_behind"].add(shard, (user_id, name, REGION))
        return web.json_response({"id": user_id, "shard": shard, "region": REGION}, status=201)
    # Ids come from the shard's own sequence, spaced by 4, so id % 4 == shard.
    row = await db(
        request,
        shard,
        "insert_user",
        "fetchrow",
        "INSERT INTO users (id, name, region) VALUES (nextval('user_seq') * $1 + $2, $3, $4)"
        f" RETURNING id, {COMMIT_COLUMNS}",
        SHARD_COUNT,
        shard,
        name,
        REGION,
        primary=True,
    )
    return web.json_response(
        {"id": row["id"], "shard": shard, "region": REGION},
        status=201,
        headers=commit_headers(row),
    )


async def get_user(request: web.Request) -> web.Response:
    user_id = int(request.match_info["id"])
    row = await read(
        request,
        shard_of(user_id),
        "select_user",
        "fetchrow",
        "SELECT id, name, region, created_at FROM users WHERE id = $1",
        user_id,
    )
    if row is None:
        return error(404, f"no user {user_id}")
    return web.json_response({**dict(row), "created_at": row["created_at"].isoformat()})


async def submit_photo(request: web.Request) -> web.Response:
    user_id = int(request.match_info["id"])
    shard = shard_of(user_id)
    body = await read_json(request)
    op = body.get("op", "blur")
    if op not in OPS:
        return error(400, f"op must be one of {', '.join(OPS)}")
    exists = await read(
        request, shard, "select_user", "fetchval", "SELECT 1 FROM users WHERE id = $1", user_id
    )
    if not exists:
        return error(404, f"no user {user_id}")
    job_id = f"{user_id}-{uuid.uuid4().hex[:16]}"
    # The row first, then the queue entry: a worker never gets a job it cannot find.
    committed = await db(
        request,
        shard,
        "insert_job",
        "fetchrow",
        f"INSERT INTO jobs (id, user_id, op) VALUES ($1, $2, $3) RETURNING {COMMIT_COLUMNS}",
        job_id,
        user_id,
        op,
        primary=True,
    )
    queue = request.app["queue"]
    try:
        if not request.app["group"].is_set():  # jobs added before the group would be skipped
            await ensure_group(queue)
            request.app["group"].set()
        await queue.xadd(STREAM, {"job_id": job_id, "user_id": str(user_id), "op": op})
    except Exception as exc:
        QUEUE_ERRORS.labels(REGION).inc()
        # Not queued means not accepted: take the row back so no job waits forever.
        try:
            await db(
                request,
                shard,
                "delete_job",
                "execute",
                "DELETE FROM jobs WHERE id = $1",
                job_id,
                primary=True,
            )
        except Unavailable as cleanup:
            log.warning("job %s not queued and its row not deleted: %s", job_id, cleanup)
        raise Unavailable(f"queue: {describe(exc)}") from exc
    return web.json_response({"job_id": job_id}, status=202, headers=commit_headers(committed))


async def get_job(request: web.Request) -> web.Response:
    job_id = request.match_info["id"]
    try:
        shard = shard_of(user_of_job(job_id))
    except ValueError:
        return error(404, f"no job {job_id}")
    row = await read(
        request,
        shard,
        "select_job",
        "fetchrow",
        "SELECT id, user_id, op, status, worker, completions, done_at FROM jobs WHERE id = $1",
        job_id,
    )
    if row is None:
        return error(404, f"no job {job_id}")
    done_at = row["done_at"].isoformat() if row["done_at"] else None
    return web.json_response({**dict(row), "done_at": done_at})


async def check(name: str, probe, timeout: float = HEALTH_TIMEOUT) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, timeout)
        return name, "ok"
    except Exception as exc:
        return name, f"error: {describe(exc)}"


async def healthz(request: web.Request) -> web.Response:
    """Healthy while the queue and at least one shard answer: one dead shard must not take the
    region out of the DNS answer, a region cut off from all its data must fail over."""
    app = request.app
    results = dict(
        await asyncio.gather(
            # The Redis client times out by itself at 0.5 s; cancelling a redis-py 4.3 command
            # midway can leave a reply unread, so the outer guard is only a backstop.
            check("queue", app["health_queue"].ping(), HEALTH_TIMEOUT + 0.2),
            *(
                check(f"shard-{s}", app["health_shards"].run(s, "fetchval", "SELECT 1"))
                for s in range(SHARD_COUNT)
            ),
        )
    )
    shards_ok = sum(results[f"shard-{s}"] == "ok" for s in range(SHARD_COUNT))
    healthy = results["queue"] == "ok" and shards_ok > 0
    return web.json_response(
        {"status": "ok" if healthy else "unavailable", "region": REGION, "checks": results},
        status=200 if healthy else 503,
    )


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def observe(request: web.Request, handler):
    """Turns every outcome into a JSON response and meters it by route template."""
    started = time.perf_counter()
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    try:
        response = await handler(request)
    except Unavailable as exc:
        log.warning("%s %s: %s", request.method, request.path, exc)
        response = error(503, str(exc))
        if isinstance(exc, NotWritten) and request.method == "POST":
            response.headers["X-Write-Outcome"] = "not-written"
    except web.HTTPException as exc:
        response = error(exc.status, exc.reason)
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path)
        response = error(500, describe(exc))
    if route not in UNMETERED_ROUTES:
        REQUESTS.labels(REGION, route, request.method, str(response.status)).inc()
        REQUEST_SECONDS.labels(REGION, route).observe(time.perf_counter() - started)
    return response


async def add_region_header(request: web.Request, response: web.StreamResponse) -> None:
    # A signal, not the middleware, so even aiohttp's own error pages carry it.
    response.headers["X-Served-Region"] = REGION


async def refresh_queue_gauges(app: web.Application) -> None:
    """Every second, the group's lag and pending count; a queue this region cannot reach
    drops the series rather than repeat a stale value."""
    while True:
        try:
            groups = await app["health_queue"].xinfo_groups(STREAM)
            group = next((g for g in groups if g["name"] == GROUP), None)
            if group is not None and group.get("lag") is not None:  # None: unknown
                QUEUE_BACKLOG.labels(REGION).set(group["lag"])
                QUEUE_PENDING.labels(REGION).set(group["pending"])
        except Exception as exc:
            log.debug("queue gauges: %s", describe(exc))
            for gauge in (QUEUE_BACKLOG, QUEUE_PENDING):
                with contextlib.suppress(KeyError):
                    gauge.remove(REGION)
        await asyncio.sleep(1)


async def create_group_until_ready(app: web.Application) -> None:
    """The consumer group must exist before the first job; retry until the queue answers."""
    while not app["group"].is_set():
        try:
            await ensure_group(app["queue"])
            app["group"].set()
            log.info("consumer group ready")
        except Exception as exc:
            log.info("queue not ready (%s), retrying", describe(exc))
            await asyncio.sleep(1)


async def start(app: web.Application) -> None:
    app["queue"] = make_redis(SETTINGS)
    # Probes use their own connections, so a busy pool cannot fail the health check.
    app["health_queue"] = make_redis(SETTINGS, timeout=HEALTH_TIMEOUT)
    app["shards"] = Shards(SETTINGS, max_size=8)  # the region's own copies: reads
    app["primaries"] = Primaries(SETTINGS, max_size=8)  # each shard's primary, wherever it is
    app["health_shards"] = Shards(SETTINGS, max_size=1, timeout=HEALTH_TIMEOUT)
    app["group"] = asyncio.Event()  # set once the consumer group is known to exist
    app["db_slots"] = db_slots()
    app["group_task"] = asyncio.create_task(create_group_until_ready(app))
    app["gauges_task"] = asyncio.create_task(refresh_queue_gauges(app))
    app["write_behind"] = WriteBehind(app["primaries"], REGION, log)
    app["write_behind_task"] = asyncio.create_task(app["write_behind"].run())
    log.info(
        "web started (ack_before_commit=%s, shared_db_pool=%s, stale_reads=%s)",
        BUG_ACK_BEFORE_COMMIT,
        BUG_SHARED_DB_POOL,
        BUG_STALE_READS,
    )


async def stop(app: web.Application) -> None:
    app["group_task"].cancel()
    app["write_behind_task"].cancel()
    app["gauges_task"].cancel()
    await app["shards"].close()
    await app["primaries"].close()
    await app["health_shards"].close()
    await app["queue"].close()
    await app["health_queue"].close()


def make_app() -> web.Application:
    app = web.Application(middlewares=[observe])
    app.add_routes(
        [
            web.post("/users", create_user),
            web.get(r"/users/{id:\d+}", get_user),
            web.post(r"/users/{id:\d+}/photos", submit_photo),
            web.get("/jobs/{id}", get_job),
            web.get("/healthz", healthz),
            web.get("/metrics", metrics),
        ]
    )
    app.on_response_prepare.append(add_region_header)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app


if __name__ == "__main__":
    drop_default_collectors()
    # run_app handles SIGTERM (docker stop) with a graceful shutdown.
    web.run_app(make_app(), port=int(os.environ.get("PORT", "8080")), access_log=None)
