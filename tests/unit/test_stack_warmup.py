"""The warm-up before a run's load: reads only, every shard of every region, bounded."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.errors import InfraError
from harness.stack import topology as t
from harness.stack.warmup import FIRST_ID, warm_up
from harness.vocabulary import HOME_HEADER


class Entry:
    """An entry that answers every GET /users/<id> with `status`, and counts what came."""

    def __init__(self, status: int = 404) -> None:
        self.status = status
        self.seen: Counter[tuple[str, str, int]] = Counter()  # (method, region, shard)
        self.ids: list[int] = []
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        entry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                user_id = int(self.path.rsplit("/", 1)[1])
                with entry.lock:
                    entry.ids.append(user_id)
                    region = self.headers.get(HOME_HEADER, "")
                    entry.seen["GET", region, t.shard_of(user_id)] += 1
                self.send_response(entry.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                with entry.lock:
                    entry.seen["POST", "", -1] += 1
                self.send_response(500)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        return Handler


@pytest.fixture
def entry() -> Iterator[tuple[Entry, str]]:
    state = Entry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_every_shard_of_every_region_is_read_concurrency_times_per_round(
    entry: tuple[Entry, str],
) -> None:
    state, url = entry
    done = warm_up(lambda region: url, concurrency=3, rounds=2)
    for region in t.REGIONS:
        for shard in range(t.SHARD_COUNT):
            assert state.seen["GET", region, shard] == 3 * 2
    assert done.requests == len(t.REGIONS) * t.SHARD_COUNT * 3 * 2
    assert done.answers == {"404": done.requests}
    assert "48 reads" in done.summary() and "48 404" in done.summary()


def test_it_writes_nothing_and_asks_for_no_user_that_exists(entry: tuple[Entry, str]) -> None:
    state, url = entry
    warm_up(lambda region: url, concurrency=2, rounds=3)
    assert {method for method, _, _ in state.seen} == {"GET"}
    assert min(state.ids) >= FIRST_ID
    assert len(set(state.ids)) * len(t.REGIONS) == len(state.ids)  # a round's ids are new


def test_other_answers_are_counted_not_raised(entry: tuple[Entry, str]) -> None:
    state, url = entry
    state.status = 503
    done = warm_up(lambda region: url, concurrency=1, rounds=1)
    assert done.answers == {"503": len(t.REGIONS) * t.SHARD_COUNT}
    closed = warm_up(lambda region: "http://127.0.0.1:1", concurrency=1, rounds=1)
    assert closed.answers == {"error": len(t.REGIONS) * t.SHARD_COUNT}


def test_a_region_without_an_address_is_skipped_and_said(entry: tuple[Entry, str]) -> None:
    state, url = entry

    def url_of(region: str) -> str:
        if region == t.REGIONS[1]:
            raise InfraError("no DNS answer")
        return url

    done = warm_up(url_of, concurrency=1, rounds=2)
    assert done.requests == t.SHARD_COUNT * 2
    assert done.answers["not sent (no address)"] == t.SHARD_COUNT * 2
    assert all(region == t.REGIONS[0] for _, region, _ in state.seen)


def test_past_its_deadline_it_sends_no_more_rounds(entry: tuple[Entry, str]) -> None:
    state, url = entry
    ticks = iter([0.0, 0.0, 100.0, 100.0, 100.0])
    done = warm_up(
        lambda region: url, concurrency=1, rounds=3, deadline_s=30, clock=lambda: next(ticks)
    )
    per_round = len(t.REGIONS) * t.SHARD_COUNT
    assert done.requests == per_round  # the first round only
    assert done.answers["not sent (deadline)"] == 2 * per_round
    assert sum(state.seen.values()) == per_round
