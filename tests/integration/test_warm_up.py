"""The warm-up before a run's load fills the web tier's database pools on the real stack, as
each shard node itself counts its backends (pg_stat_activity), not as the harness says."""

from __future__ import annotations

import time

import psycopg

from harness.stack.endpoints import Endpoints
from harness.stack.smoke import region_url
from harness.stack.warmup import warm_up

WEB_USER = "harness"  # the web tier, the workers and this test all log in as harness


def _nodes(endpoints: Endpoints) -> list[str]:
    return [url for copies in endpoints.shards for url in copies]


def _backends(url: str) -> int:
    with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s"
            " AND datname = current_database() AND pid <> pg_backend_pid()",
            (WEB_USER,),
        ).fetchone()
    return int(row[0]) if row else 0


def _in_recovery(url: str) -> bool:
    with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


def _drop_connections(url: str) -> None:
    """Every harness backend but this one ended: the pools are as cold as a fresh stack's."""
    with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s"
            " AND pid <> pg_backend_pid()",
            (WEB_USER,),
        )


def test_the_warm_up_opens_connections_on_every_shard_node(stack: Endpoints) -> None:
    nodes = _nodes(stack)
    for url in nodes:
        _drop_connections(url)
    time.sleep(1.5)  # the health checks' own single connections come back meanwhile
    cold = {url: _backends(url) for url in nodes}
    done = warm_up(lambda region: region_url(stack, region), concurrency=8, rounds=2)
    warm = {url: _backends(url) for url in nodes}
    assert done.answers.get("404") == done.requests, done.summary()
    opened = {url: warm[url] - cold[url] for url in nodes}
    primaries = [url for url in nodes if not _in_recovery(url)]
    assert len(primaries) == len(stack.shards), primaries
    # Every read reaches its region's copy, and (absent there) the shard's primary over the
    # WAN: every node's pools opened backends. The primaries hold each read for a WAN round
    # trip, so 8 at once per region overlap there: at least 4 new backends each. A copy
    # answers in a fraction of a millisecond and its pool hands the same connection to the
    # next read, so how many it opens is the arrivals' overlap: at least one.
    assert all(n >= 1 for n in opened.values()), opened
    assert all(opened[url] >= 4 for url in primaries), opened
