"""The shard and queue adapters fail as InfraError naming what failed, quickly (no network:
a closed loopback port refuses at once; a silent loopback socket never answers)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from harness.errors import InfraError
from harness.invariants.queue import QueueReader, QueueStats
from harness.invariants.shards import ShardReader


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def test_unreachable_shard() -> None:
    url = f"postgresql://harness@127.0.0.1:{closed_port()}/harness"
    reader = ShardReader([url, url])
    with pytest.raises(InfraError) as caught:
        reader.users_present(1, [1, 5])
    assert caught.value.message.startswith(f"shard-1 at {url} could not be read")
    assert "\n" not in caught.value.message
    with pytest.raises(InfraError):
        reader.job_rows(0, ["1-0"])
    reader.close()


def test_nothing_asked_needs_no_connection() -> None:
    reader = ShardReader(["postgresql://harness@127.0.0.1:1/harness"])
    assert reader.users_present(0, []) == set()
    assert reader.job_rows(0, []) == []


def test_a_silent_shard_is_bounded(silent_port: int) -> None:
    reader = ShardReader(
        [f"postgresql://harness@127.0.0.1:{silent_port}/harness"], connect_timeout_s=2
    )
    started = time.monotonic()
    with pytest.raises(InfraError):
        reader.users_present(0, [4])
    assert time.monotonic() - started < 6.0


def test_unreachable_queue() -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with pytest.raises(InfraError, match=r"the queue at redis://127\.0\.0\.1"):
        QueueReader(url, timeout_s=1.0).stats()


def test_a_silent_queue_is_bounded(silent_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(InfraError):
        QueueReader(f"redis://127.0.0.1:{silent_port}/0", timeout_s=0.3).stats()
    assert time.monotonic() - started < 3.0


def test_queue_stats_text() -> None:
    text = QueueStats(length=12, pending=3, lag=None).describe()
    assert text == "queue: 12 entries, 3 pending (unacked), lag unknown"
