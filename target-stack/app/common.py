"""Settings and pure helpers shared by web.py and worker.py (no I/O, no third-party imports
at module level, so the unit tests can import this file without the image's packages)."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from dataclasses import dataclass

SHARD_COUNT = 4  # the seed's sharding rule: shard = user_id % 4
STREAM = "photo-jobs"
GROUP = "photo-workers"
OPS = ("blur", "sharpen")
IMAGE_SIZE = (256, 256)

# The API's routes as aiohttp names them (the `route` label of web_requests_total), with their
# method and success status. web.py creates these series at 0 when it starts, with the errors
# the app answers: `increase()` ignores a series' first sample, so the first 503 of a route
# would otherwise count as nothing in a server_error_ratio (status=~"5..").
API_ROUTES: tuple[tuple[str, str, int], ...] = (
    ("POST", "/users", 201),
    ("GET", "/users/{id}", 200),
    ("POST", "/users/{id}/photos", 202),
    ("GET", "/jobs/{id}", 200),
)
ERROR_STATUSES = (400, 404, 500, 503)  # bad body, unknown id, a bug, a dependency down
# Which node a shard query went to (web_db_seconds' `role`), pre-created per shard: the
# region's own copy (reads) or the shard's primary (writes, and reads the copy could not
# answer). Not the query itself: four queries made 16 histograms a replica, 272 of its 428
# series scraped each second, and the two roles are what differ (the WAN lies between them).
DB_ROLES = ("local_copy", "primary")


def precreated_requests() -> list[tuple[str, str, str]]:
    """(route, method, status) of every web_requests_total series made at start."""
    return [
        (route, method, str(status))
        for method, route, ok in API_ROUTES
        for status in (ok, *ERROR_STATUSES)
    ]


def parse_addr(addr: str) -> tuple[str, int]:
    """'host:port' -> ('host', port)."""
    host, sep, port = addr.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {addr!r}")
    return host, int(port)


def parse_shard_addrs(value: str) -> list[tuple[str, int]]:
    """SHARD_ADDRS: comma-separated host:port of shards 0..3, in shard order."""
    addrs = [parse_addr(a) for a in value.split(",") if a.strip()]
    if len(addrs) != SHARD_COUNT:
        raise ValueError(f"SHARD_ADDRS needs {SHARD_COUNT} addresses, got {len(addrs)}")
    return addrs


def parse_write_addrs(value: str) -> list[list[tuple[str, int]]]:
    """SHARD_WRITE_ADDRS: per shard (comma-separated, in shard order) the host:port of each of
    its nodes, separated by '|': wherever the primary is, it is one of these."""
    shards = [[parse_addr(a) for a in group.split("|")] for group in value.split(",") if group]
    if len(shards) != SHARD_COUNT:
        raise ValueError(f"SHARD_WRITE_ADDRS needs {SHARD_COUNT} shards, got {len(shards)}")
    return shards


def timeline_of_walfile(name: str) -> int:
    """The timeline in a WAL file name (its first 8 hex digits): 000000030000000000000004 -> 3."""
    return int(name[:8], 16)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "0").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    region: str
    queue_addr: tuple[str, int]
    shard_addrs: list[tuple[str, int]]  # each shard's copy in this region: reads
    db_name: str
    db_user: str
    # Each shard's nodes, for writes: the pool connects to the one that takes writes now.
    shard_write_addrs: list[list[tuple[str, int]]] | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            region=os.environ.get("REGION", "us-east"),
            queue_addr=parse_addr(os.environ.get("QUEUE_ADDR", "queue:6379")),
            shard_addrs=parse_shard_addrs(
                os.environ.get("SHARD_ADDRS", ",".join(f"shard-{i}:5432" for i in range(4)))
            ),
            db_name=os.environ.get("DB_NAME", "harness"),
            db_user=os.environ.get("DB_USER", "harness"),
            shard_write_addrs=(
                parse_write_addrs(os.environ["SHARD_WRITE_ADDRS"])
                if os.environ.get("SHARD_WRITE_ADDRS")
                else None
            ),
        )


def shard_of(user_id: int) -> int:
    return user_id % SHARD_COUNT


def new_job_id(user_id: int, token: str) -> str:
    """Job ids start with the user id, so any holder of a job id can find its shard."""
    return f"{user_id}-{token}"


def user_of_job(job_id: str) -> int:
    """The user id inside a job id; ValueError when it is not one of ours."""
    user, sep, token = job_id.partition("-")
    if not sep or not token or not user.isdigit():
        raise ValueError(f"not a job id: {job_id!r}")
    return int(user)


def render_photo(job_id: str, op: str) -> str:
    """The photo job's real work: a 256x256 RGB image made deterministically from the job id,
    blurred or sharpened; returns the sha256 of the result, so a re-run gives the same digest."""
    from PIL import Image, ImageFilter  # only the worker image has Pillow

    if op not in OPS:
        raise ValueError(f"unknown op {op!r}")
    noise = hashlib.shake_256(job_id.encode()).digest(IMAGE_SIZE[0] * IMAGE_SIZE[1] * 3)
    image = Image.frombytes("RGB", IMAGE_SIZE, noise)
    flt = ImageFilter.GaussianBlur(radius=2) if op == "blur" else ImageFilter.SHARPEN
    return hashlib.sha256(image.filter(flt).tobytes()).hexdigest()


def describe(exc: BaseException) -> str:
    """'TimeoutError' or 'ConnectionError: why', for logs and JSON error bodies."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def drop_default_collectors() -> None:
    """Expose only the program's own series: the client's process, platform and GC collectors
    (15 series, /proc reads each scrape) are read by nothing, and every replica is scraped
    each second."""
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR, REGISTRY

    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        REGISTRY.unregister(collector)


def setup_logging(program: str, region: str) -> logging.Logger:
    logging.basicConfig(
        stream=sys.stdout,
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s {program}[{region}] %(levelname)s %(message)s",
    )
    return logging.getLogger(program)
