"""The shard and queue adapters fail as InfraError naming what failed, quickly (no network:
a closed loopback port refuses at once; a silent loopback socket never answers)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from harness.errors import InfraError
from harness.invariants import queue as queue_module
from harness.invariants.queue import QueueReader, QueueStats, RegionQueues
from harness.invariants.shards import ShardReader, primary_url
from harness.stack.topology import QUEUE_GROUP


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


EAST = "postgresql://harness@127.0.0.1:40010/harness"
WEST = "postgresql://harness@127.0.0.1:40020/harness"


def test_a_shards_nodes_make_one_url_that_finds_the_primary() -> None:
    assert primary_url([EAST, WEST]) == (
        "postgresql://harness@127.0.0.1:40010,127.0.0.1:40020/harness"
        "?target_session_attrs=read-write"
    )
    assert primary_url([WEST]) == WEST  # a single node is read as it is


def test_a_shard_given_as_its_nodes_is_read_on_its_primary() -> None:
    reader = ShardReader([(EAST, WEST), WEST, (EAST,)])
    assert reader.urls == (primary_url([EAST, WEST]), WEST, EAST)
    assert reader.count == 3


def test_an_unreachable_shard_with_two_nodes_names_both() -> None:
    a, b = closed_port(), closed_port()
    nodes = [f"postgresql://harness@127.0.0.1:{port}/harness" for port in (a, b)]
    reader = ShardReader([nodes])
    with pytest.raises(InfraError) as caught:
        reader.users_present(0, [4])
    assert caught.value.message.startswith(f"shard-0 at {primary_url(nodes)} could not be read")
    assert f"127.0.0.1:{a},127.0.0.1:{b}" in caught.value.message
    reader.close()


def region_queues(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, QueueStats | Exception]
) -> RegionQueues:
    """RegionQueues whose QueueReaders answer from `answers` by URL, without Redis."""

    def stats(self: QueueReader) -> QueueStats:
        answer = answers[self.url]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(QueueReader, "stats", stats)
    return RegionQueues({f"r{i}": url for i, url in enumerate(answers)})


def test_region_queues_add_up_every_regions_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    queues = region_queues(
        monkeypatch,
        {
            "redis://127.0.0.1:1/0": QueueStats(length=10, pending=2, lag=3),
            "redis://127.0.0.1:2/0": QueueStats(length=5, pending=1, lag=4),
        },
    )
    assert [r.url for r in queues.readers] == ["redis://127.0.0.1:1/0", "redis://127.0.0.1:2/0"]
    assert queues.stats() == QueueStats(length=15, pending=3, lag=7)
    queues.close()


def test_one_regions_unknown_lag_makes_the_lag_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    queues = region_queues(
        monkeypatch,
        {
            "redis://127.0.0.1:1/0": QueueStats(length=10, pending=2, lag=0),
            "redis://127.0.0.1:2/0": QueueStats(length=5, pending=0, lag=None),
        },
    )
    assert queues.stats() == QueueStats(length=15, pending=2, lag=None)


def test_one_unreadable_regions_queue_fails_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = InfraError("the queue at redis://127.0.0.1:2/0 could not be read: timeout")
    queues = region_queues(
        monkeypatch,
        {
            "redis://127.0.0.1:1/0": QueueStats(length=1, pending=0, lag=0),
            "redis://127.0.0.1:2/0": broken,
        },
    )
    with pytest.raises(InfraError, match=r"redis://127\.0\.0\.1:2/0"):
        queues.stats()


def test_region_queues_read_each_regions_redis() -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    queues = RegionQueues({"us-east": url}, timeout_s=1.0)
    with pytest.raises(InfraError, match="the queue at redis://127"):
        queues.stats()
    queues.close()


class _FakeRedis:
    """A stream of `entries` ids whose consumer group has delivered up to `last`, and whose
    lag Redis reports as `lag` (None: Redis cannot tell)."""

    def __init__(self, entries: list[str], last: str, lag: int | None) -> None:
        self.entries, self.last, self.lag = entries, last, lag
        self.ranges: list[tuple[str, int]] = []

    def exists(self, _stream: str) -> int:
        return 1

    def xlen(self, _stream: str) -> int:
        return len(self.entries)

    def xinfo_groups(self, _stream: str) -> list[dict[str, object]]:
        return [{"name": QUEUE_GROUP, "pending": 0, "lag": self.lag,
                 "last-delivered-id": self.last}]  # fmt: skip

    def xrange(self, _stream: str, *, min: str, max: str, count: int) -> list[tuple[str, dict]]:
        self.ranges.append((min, count))
        after = [e for e in self.entries if min.startswith("(") and e > min[1:]]
        return [(e, {}) for e in after[:count]]


def test_a_lag_redis_cannot_tell_is_counted_after_the_last_delivered_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _FakeRedis(["1-0", "2-0", "3-0", "4-0"], last="2-0", lag=None)
    reader = QueueReader("redis://127.0.0.1:1/0")
    monkeypatch.setattr(reader, "_client", fake)
    assert reader.stats() == QueueStats(length=4, pending=0, lag=2)
    assert fake.ranges == [("(2-0", queue_module.LAG_SCAN_MAX + 1)]
    fake.lag = 3  # when Redis knows, its answer is used and nothing is scanned
    assert reader.stats().lag == 3 and len(fake.ranges) == 1


def test_a_lag_beyond_the_scan_bound_stays_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_module, "LAG_SCAN_MAX", 2)
    reader = QueueReader("redis://127.0.0.1:1/0")
    monkeypatch.setattr(reader, "_client", _FakeRedis(["1-0", "2-0", "3-0", "4-0"], "0-0", None))
    assert reader.stats().lag is None
