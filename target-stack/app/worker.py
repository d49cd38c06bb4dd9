"""A photo worker of one region: consumes jobs from the Redis stream and records results in the
user's shard.

At-least-once: a job is acknowledged only after its result is committed, so a worker killed
midway leaves the job pending, and a live worker takes it over with XAUTOCLAIM once it has been
idle for RECLAIM_IDLE_MS. Two seeded bugs break this on purpose (see the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time

from aiohttp import web
from clients import Primaries, ensure_group, make_redis
from common import (
    GROUP,
    STREAM,
    Settings,
    describe,
    drop_default_collectors,
    env_flag,
    render_photo,
    setup_logging,
    shard_of,
)
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from redis.exceptions import ResponseError

SETTINGS = Settings.from_env()
REGION = SETTINGS.region
NAME = os.environ.get("WORKER_NAME") or os.uname().nodename
METRICS_PORT = int(os.environ.get("METRICS_PORT", "9100"))
RECLAIM_IDLE_MS = int(os.environ.get("RECLAIM_IDLE_MS", "5000"))
BUG_ACK_BEFORE_PERSIST = env_flag("BUG_ACK_BEFORE_PERSIST")
BUG_NO_RECLAIM = env_flag("BUG_NO_RECLAIM")
# The original photo is fetched from object storage before the work: simulated by a wait, so a
# job holds its worker for a realistic time without burning the 2 cores the stack shares.
FETCH_S = int(os.environ.get("PHOTO_FETCH_MS", "200")) / 1000
RECLAIM_EVERY = 2.0  # seconds between XAUTOCLAIM rounds
ERROR_PAUSE = 0.5  # after a failed call: retry soon, but never spin
HEALTHY_WITHIN = 5.0  # /healthz is 200 while the last Redis call succeeded this recently
log = setup_logging("worker", REGION)

PROCESSED = Counter("worker_jobs_processed_total", "Jobs done and recorded", ["region", "worker"])
FAILURES = Counter("worker_job_failures_total", "Jobs that failed", ["region", "worker"])
JOB_SECONDS = Histogram("worker_job_seconds", "Time to process one job", ["region"])
RECLAIMED = Counter(
    "worker_jobs_reclaimed_total", "Jobs taken over from idle consumers", ["region", "worker"]
)
BACKLOG = Gauge(
    "worker_queue_backlog", "Stream entries not yet delivered to the group", ["region", "worker"]
)
PENDING = Gauge(
    "worker_queue_pending",
    "Entries delivered to the group but not acknowledged",
    ["region", "worker"],
)
BUSY = Gauge("worker_busy", "1 while the worker is processing a job", ["region", "worker"])


class Worker:
    def __init__(self) -> None:
        self.queue = make_redis(SETTINGS)
        self.shards = Primaries(SETTINGS, max_size=2)  # job rows: on the primary
        self.stopping = asyncio.Event()
        self.last_queue_ok = 0.0  # monotonic time of the last successful Redis call
        self.reclaim_cursor = "0-0"
        self.busy = 0  # jobs taken and not yet finished (a batch with the prefetch bug)
        self.job_taken = asyncio.Event()  # set (and replaced) each time work is taken

    async def redis(self, command):
        """Awaits one Redis call and remembers that the queue answered (for /healthz)."""
        result = await command
        self.last_queue_ok = time.monotonic()
        return result

    async def process(self, entry_id: str, fields: dict, ack: bool = True) -> None:
        """Does the work, records it in the user's shard, and only then acknowledges."""
        started = time.perf_counter()
        try:
            job_id, user_id, op = fields["job_id"], int(fields["user_id"]), fields["op"]
            await asyncio.sleep(FETCH_S)
            digest = await asyncio.to_thread(render_photo, job_id, op)  # keep /metrics live
        except (KeyError, ValueError) as exc:
            # A malformed entry would fail forever: drop it (ack) and count it.
            log.error("dropping malformed entry %s %s: %s", entry_id, fields, exc)
            FAILURES.labels(REGION, NAME).inc()
            await self.redis(self.queue.xack(STREAM, GROUP, entry_id))
            return
        try:
            status = await self.shards.run(
                shard_of(user_id),
                "execute",
                "UPDATE jobs SET status = 'done', worker = $2, result_digest = $3,"
                " completions = completions + 1, done_at = now() WHERE id = $1",
                job_id,
                NAME,
                digest,
            )
        except Exception as exc:
            # Not recorded, so not acknowledged: the job stays pending and is reclaimed later.
            log.warning("job %s not recorded: %s", job_id, describe(exc))
            FAILURES.labels(REGION, NAME).inc()
            return
        if status == "UPDATE 0":  # the web took the job back (its XADD failed): nothing to do
            log.warning("job %s has no row; acknowledging it", job_id)
            FAILURES.labels(REGION, NAME).inc()
        else:
            PROCESSED.labels(REGION, NAME).inc()
            JOB_SECONDS.labels(REGION).observe(time.perf_counter() - started)
        if ack:
            await self.redis(self.queue.xack(STREAM, GROUP, entry_id))

    async def read_new(self) -> None:
        count = 10 if BUG_ACK_BEFORE_PERSIST else 1
        try:
            reply = await self.redis(
                self.queue.xreadgroup(GROUP, NAME, {STREAM: ">"}, count=count, block=1000)
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self.redis(ensure_group(self.queue))  # the web has not created it yet
            return
        entries = reply[0][1] if reply else []
        if BUG_ACK_BEFORE_PERSIST and entries:
            # Seeded bug: "ack on receive" with a prefetch of 10; a crash loses the batch.
            await self.redis(self.queue.xack(STREAM, GROUP, *(eid for eid, _ in entries)))
        await self.work(entries, ack=not BUG_ACK_BEFORE_PERSIST)

    async def work(self, entries: list, ack: bool = True) -> None:
        """Processes taken entries, marked busy meanwhile (the harness kills workers mid-job)."""
        self.busy = len(entries)
        BUSY.labels(REGION, NAME).set(1 if entries else 0)
        if entries:
            self.job_taken.set()
            self.job_taken = asyncio.Event()
        try:
            for entry_id, fields in entries:
                await self.process(entry_id, fields, ack=ack)
                self.busy -= 1
        finally:
            self.busy = 0
            BUSY.labels(REGION, NAME).set(0)

    async def reclaim(self) -> None:
        """Takes over jobs that another consumer (maybe killed) left pending too long."""
        cursor, entries, *_ = await self.redis(
            self.queue.xautoclaim(
                STREAM, GROUP, NAME, RECLAIM_IDLE_MS, start_id=self.reclaim_cursor, count=10
            )
        )
        # Resume from the cursor next round, so a long pending list is walked through.
        self.reclaim_cursor = cursor
        entries = [(eid, fields) for eid, fields in entries if fields]
        if entries:
            log.info("reclaimed %d idle job(s)", len(entries))
            RECLAIMED.labels(REGION, NAME).inc(len(entries))
        await self.work(entries)

    async def consume(self) -> None:
        next_reclaim = time.monotonic()
        while not self.stopping.is_set():
            try:
                if not BUG_NO_RECLAIM and time.monotonic() >= next_reclaim:
                    next_reclaim = time.monotonic() + RECLAIM_EVERY
                    await self.reclaim()
                await self.read_new()
            except Exception as exc:
                log.warning("queue error: %s", describe(exc))
                await asyncio.sleep(ERROR_PAUSE)

    async def refresh_gauges(self) -> None:
        while not self.stopping.is_set():
            try:
                groups = await self.redis(self.queue.xinfo_groups(STREAM))
                group = next((g for g in groups if g["name"] == GROUP), None)
                if group is not None and group.get("lag") is not None:  # None: unknown
                    BACKLOG.labels(REGION, NAME).set(group["lag"])
                pending = await self.redis(self.queue.xpending(STREAM, GROUP))
                PENDING.labels(REGION, NAME).set(pending["pending"])
            except Exception as exc:
                log.debug("gauge refresh failed: %s", exc)
            await asyncio.sleep(1)

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def busy_state(self, request: web.Request) -> web.Response:
        """Whether a job is in hand: lets a fault kill the worker mid-job.

        With `?next_ms=N` the answer waits (up to N ms) for the next job to be taken, so the
        caller learns of it at the job's very start and its kill lands well inside the job."""
        wait_ms = int(request.query.get("next_ms", "0") or 0)
        if wait_ms > 0:
            taken = self.job_taken
            with contextlib.suppress(TimeoutError):  # no job within the wait: answer as is
                await asyncio.wait_for(taken.wait(), timeout=min(wait_ms, 30_000) / 1000)
        return web.json_response({"worker": NAME, "busy": self.busy > 0, "jobs": self.busy})

    async def healthz(self, request: web.Request) -> web.Response:
        age = time.monotonic() - self.last_queue_ok
        healthy = age <= HEALTHY_WITHIN
        return web.json_response(
            {
                "status": "ok" if healthy else "unavailable",
                "worker": NAME,
                "last_queue_ok_seconds_ago": round(age, 1) if self.last_queue_ok else None,
            },
            status=200 if healthy else 503,
        )

    async def run(self) -> None:
        app = web.Application()
        app.add_routes(
            [
                web.get("/metrics", self.metrics),
                web.get("/healthz", self.healthz),
                web.get("/busy", self.busy_state),
            ]
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "0.0.0.0", METRICS_PORT).start()
        log.info(
            "worker %s started (ack_before_persist=%s, no_reclaim=%s)",
            NAME,
            BUG_ACK_BEFORE_PERSIST,
            BUG_NO_RECLAIM,
        )
        gauges = asyncio.create_task(self.refresh_gauges())
        try:
            await self.consume()  # returns after SIGTERM, once the current job is finished
        finally:
            gauges.cancel()
            await runner.cleanup()
            await self.shards.close()
            await self.queue.close()


async def main() -> None:
    worker = Worker()
    # As PID 1 we get no default SIGTERM handling: stop cleanly on docker stop.
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stopping.set)
    await worker.run()


if __name__ == "__main__":
    drop_default_collectors()
    asyncio.run(main())
