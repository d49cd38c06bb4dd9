"""The readiness check for replication: one primary per shard, streaming to its standby."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from harness.errors import InfraError
from harness.stack import replication
from harness.stack.replication import (
    NodeState,
    node_state,
    replication_problem,
    synchronous_standbys,
    wait_replicated,
)
from tests.fakes import ENDPOINTS

EAST, WEST = "shard-1-us-east", "shard-1-us-west"


def primary(node: str, *streaming: str) -> NodeState:
    return NodeState(node=node, role="primary", streaming=streaming)


def standby(node: str) -> NodeState:
    return NodeState(node=node, role="standby")


def test_one_primary_streaming_to_its_standby_is_healthy() -> None:
    assert replication_problem(1, [primary(EAST, WEST), standby(WEST)]) is None
    assert replication_problem(1, [standby(EAST), primary(WEST, EAST)]) is None


def test_a_shard_without_a_primary_names_each_nodes_role() -> None:
    down = NodeState(node=WEST, role="down", detail="connection refused")
    assert replication_problem(1, [standby(EAST), down]) == (
        "shard 1 has 0 primaries (shard-1-us-east standby, shard-1-us-west down)"
    )


def test_two_primaries_are_a_problem_even_if_each_streams() -> None:
    problem = replication_problem(1, [primary(EAST, WEST), primary(WEST, EAST)])
    assert problem == "shard 1 has 2 primaries (shard-1-us-east primary, shard-1-us-west primary)"


def test_a_standby_that_does_not_stream_from_the_primary_is_named() -> None:
    assert replication_problem(1, [primary(EAST), standby(WEST)]) == (
        "shard 1: shard-1-us-west not streaming from shard-1-us-east"
    )
    # streaming to something else (an old name) is not streaming to the standby
    assert replication_problem(1, [primary(EAST, "shard-9-x"), standby(WEST)]) is not None


def test_a_node_nobody_answers_for_is_down_with_a_one_line_detail() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state = node_state(EAST, f"postgresql://harness@127.0.0.1:{port}/harness")
    assert (state.node, state.role, state.streaming) == (EAST, "down", ())
    assert state.detail and "\n" not in state.detail and len(state.detail) <= 120


def test_node_states_follow_the_endpoints_nodes_in_region_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[str, str]] = []

    def fake_state(node: str, url: str) -> NodeState:
        asked.append((node, url))
        return standby(node)

    monkeypatch.setattr(replication, "node_state", fake_state)
    states = replication.shard_states(ENDPOINTS)
    assert sorted(states) == [0, 1, 2, 3]
    assert [s.node for s in states[2]] == ["shard-2-us-east", "shard-2-us-west"]
    assert asked[4:6] == [
        ("shard-2-us-east", ENDPOINTS.shards[2][0]),
        ("shard-2-us-west", ENDPOINTS.shards[2][1]),
    ]


def healthy(shard: int) -> list[NodeState]:
    east, west = f"shard-{shard}-us-east", f"shard-{shard}-us-west"
    return (
        [primary(east, west), standby(west)]
        if shard % 2 == 0
        else [
            standby(east),
            primary(west, east),
        ]
    )


def test_wait_replicated_returns_each_shards_primary_once_all_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    polls = iter(
        [
            {0: [standby("shard-0-us-east"), standby("shard-0-us-west")], 1: healthy(1)},
            {0: healthy(0), 1: healthy(1)},
        ]
    )
    monkeypatch.setattr(replication, "shard_states", lambda endpoints: next(polls))
    monkeypatch.setattr(replication.time, "sleep", lambda s: None)
    said: list[str] = []
    found = wait_replicated(ENDPOINTS, timeout_s=10, progress=said.append)
    assert found == {0: "shard-0-us-east", 1: "shard-1-us-west"}
    assert said == [
        "waiting for every shard's primary and standby (shard 0 has 0 primaries"
        " (shard-0-us-east standby, shard-0-us-west standby))"
    ]


def test_wait_replicated_gives_up_naming_every_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    stuck = {0: [primary("shard-0-us-east"), standby("shard-0-us-west")], 1: healthy(1)}
    monkeypatch.setattr(replication, "shard_states", lambda endpoints: stuck)
    monkeypatch.setattr(replication.time, "sleep", lambda s: None)
    said: list[str] = []
    with pytest.raises(InfraError) as caught:
        wait_replicated(ENDPOINTS, timeout_s=0, progress=said.append)
    assert caught.value.message == (
        "the shards are not replicated after 0 s:"
        " shard 0: shard-0-us-west not streaming from shard-0-us-east"
    )
    assert "docker logs" in (caught.value.hint or "")
    assert len(said) == 1


def test_a_streaming_standby_patroni_has_not_made_synchronous_is_a_problem_when_asked() -> None:
    states = [primary(EAST, WEST), standby(WEST)]
    assert replication_problem(1, states, sync=frozenset()) == (
        "shard 1: Patroni has not made shard-1-us-west synchronous yet"
    )
    assert replication_problem(1, states, sync=frozenset({WEST})) is None
    assert replication_problem(1, states) is None  # async: streaming is enough


def test_wait_replicated_synchronous_waits_for_patronis_sync_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replication, "shard_states", lambda endpoints: {1: healthy(1)})
    keys = iter([frozenset(), frozenset({"shard-1-us-east"})])
    monkeypatch.setattr(replication, "synchronous_standbys", lambda apis: next(keys))
    monkeypatch.setattr(replication.time, "sleep", lambda s: None)
    said: list[str] = []
    assert wait_replicated(ENDPOINTS, timeout_s=10, progress=said.append, synchronous=True) == {
        1: "shard-1-us-west"
    }
    assert said == [
        "waiting for every shard's primary and standby"
        " (shard 1: Patroni has not made shard-1-us-east synchronous yet)"
    ]


class _PatroniAPI(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_synchronous_standbys_reads_patronis_cluster_view_from_the_first_api_that_answers() -> None:
    _PatroniAPI.body = json.dumps(
        {"members": [{"name": EAST, "role": "leader"}, {"name": WEST, "role": "sync_standby"}]}
    ).encode()
    server = HTTPServer(("127.0.0.1", 0), _PatroniAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    try:
        live = f"http://127.0.0.1:{server.server_address[1]}"
        assert synchronous_standbys((dead, live)) == frozenset({WEST})
        assert synchronous_standbys((dead,)) is None
    finally:
        server.shutdown()
