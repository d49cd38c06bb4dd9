"""The Toxiproxy adapter against loopback stand-ins: bounded calls, named errors, one call each."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from harness.errors import InfraError
from harness.faults.toxiproxy_client import ToxiproxyClient, stack_links
from harness.stack.wan import BaselineToxic, wan_toxics
from tests.fakes import ENDPOINTS


class FakeToxiproxyHandler(BaseHTTPRequestHandler):
    state: ClassVar[dict[str, Any]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length", 0))
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        s = self.state
        s["calls"].append(("GET", self.path))
        if self.path == "/proxies":
            self._send(200, {n: {"name": n, "listen": "x", "upstream": "y", "enabled": p["enabled"]}
                             for n, p in s["proxies"].items()})  # fmt: skip
        elif self.path.endswith("/toxics"):
            name = self.path.split("/")[2]
            self._send(200, [{"name": k, **v} for k, v in s["proxies"][name]["toxics"].items()])
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        s = self.state
        s["calls"].append(("POST", self.path))
        body = self._body()
        parts = self.path.split("/")
        if self.path == "/reset":
            if s.get("reset_fails"):
                self._send(500, {})
                return
            for proxy in s["proxies"].values():  # as Toxiproxy does: all enabled, no toxics
                proxy["enabled"], proxy["toxics"] = True, {}
            self._send(204, {})
        elif len(parts) == 3:
            s["proxies"][parts[2]]["enabled"] = body["enabled"]
            self._send(200, {})
        elif parts[-1] == "toxics":
            if body["type"] == "nonsense":
                self._send(400, {"error": "bad toxic type"})
                return
            s["proxies"][parts[2]]["toxics"][body["name"]] = body
            self._send(200, body)

    def do_DELETE(self) -> None:
        s = self.state
        s["calls"].append(("DELETE", self.path))
        parts = self.path.split("/")
        toxics = s["proxies"][parts[2]]["toxics"]
        if parts[4] not in toxics:
            self._send(404, {"error": "toxic not found"})
            return
        del toxics[parts[4]]
        self._send(204, {})


@pytest.fixture
def fake() -> Iterator[tuple[str, dict[str, Any]]]:
    state: dict[str, Any] = {
        "calls": [],
        "proxies": {"edge-us-east": {"enabled": True, "toxics": {}}},
    }
    FakeToxiproxyHandler.state = state
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeToxiproxyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_toxic_added_and_removed_with_one_call_each(fake: tuple[str, dict[str, Any]]) -> None:
    url, state = fake
    client = ToxiproxyClient(url)
    client.add_toxic("edge-us-east", name="t1", type="latency", attributes={"latency": 5})
    assert "t1" in state["proxies"]["edge-us-east"]["toxics"]
    state["calls"].clear()
    client.remove_toxic("edge-us-east", "t1")
    assert state["calls"] == [("DELETE", "/proxies/edge-us-east/toxics/t1")], state["calls"]
    client.remove_toxic("edge-us-east", "t1")  # already gone: fine


def test_disable_and_enable(fake: tuple[str, dict[str, Any]]) -> None:
    url, _ = fake
    client = ToxiproxyClient(url)
    client.set_enabled("edge-us-east", False)
    assert client.proxies() == {"edge-us-east": False}
    assert client.all_clean() == ["edge-us-east disabled"]
    client.set_enabled("edge-us-east", True)
    assert client.all_clean() == []


def test_unknown_proxy_is_named_with_the_valid_ones(fake: tuple[str, dict[str, Any]]) -> None:
    url, _ = fake
    with pytest.raises(InfraError, match="no proxy named 'edge-mars'") as err:
        ToxiproxyClient(url).set_enabled("edge-mars", False)
    assert err.value.hint is not None and "edge-us-east" in err.value.hint


def test_refused_toxic_names_proxy_and_toxic(fake: tuple[str, dict[str, Any]]) -> None:
    url, _ = fake
    with pytest.raises(InfraError, match=r"add toxic t2 \(nonsense\) to proxy edge-us-east"):
        ToxiproxyClient(url).add_toxic("edge-us-east", name="t2", type="nonsense", attributes={})


def test_server_error_is_an_error_not_a_silent_success(fake: tuple[str, dict[str, Any]]) -> None:
    url, state = fake
    state["reset_fails"] = True
    with pytest.raises(InfraError, match="did not answer to reset"):
        ToxiproxyClient(url).reset()


def test_a_server_that_never_answers_fails_within_the_timeout() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never answers
    try:
        client = ToxiproxyClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.3)
        start = time.monotonic()
        with pytest.raises(InfraError, match="did not answer"):
            client.reset()
        assert time.monotonic() - start < 3
    finally:
        silent.close()


def test_nothing_listening_is_an_infra_error_with_a_hint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InfraError) as err:
        ToxiproxyClient(f"http://127.0.0.1:{port}").proxies()
    assert err.value.hint is not None and "harness status" in err.value.hint


WAN = "wan-shard0-us-east"


def with_wan(state: dict[str, Any]) -> None:
    state["proxies"][WAN] = {"enabled": True, "toxics": {}}


def wan_baseline(latency_ms: int = 35) -> list[BaselineToxic]:
    return [b for b in wan_toxics(latency_ms) if b.link == WAN]


def test_reset_puts_the_wans_latency_back_at_once(fake: tuple[str, dict[str, Any]]) -> None:
    url, state = fake
    with_wan(state)
    client = ToxiproxyClient(url, baseline=wan_baseline())
    client.add_toxic(WAN, name="f0-latency-downstream", type="latency", attributes={"latency": 9})
    client.set_enabled(WAN, False)
    client.reset()
    wan = state["proxies"][WAN]
    assert wan["enabled"] is True
    assert sorted(wan["toxics"]) == ["wan-latency-downstream", "wan-latency-upstream"]
    for stream in ("upstream", "downstream"):
        toxic = wan["toxics"][f"wan-latency-{stream}"]
        assert (toxic["type"], toxic["stream"]) == ("latency", stream)
        assert toxic["attributes"] == {"latency": 35, "jitter": 0}
    assert state["proxies"]["edge-us-east"]["toxics"] == {}  # no baseline there
    client.reset()  # again: the same two, not four
    assert len(state["proxies"][WAN]["toxics"]) == 2


def test_a_client_without_a_baseline_resets_to_no_toxics(fake: tuple[str, dict[str, Any]]) -> None:
    url, state = fake
    with_wan(state)
    client = ToxiproxyClient(url)
    client.add_toxic(WAN, name="f0-latency-downstream", type="latency", attributes={"latency": 9})
    client.reset()
    assert state["proxies"][WAN]["toxics"] == {}
    assert client.all_clean() == []


def test_all_clean_ignores_the_baseline_but_not_a_faults_toxic(
    fake: tuple[str, dict[str, Any]],
) -> None:
    url, state = fake
    with_wan(state)
    client = ToxiproxyClient(url, baseline=wan_baseline())
    client.reset()
    assert client.all_clean() == []  # the WAN's own latency is the healthy state
    client.add_toxic(WAN, name="f0-latency-downstream", type="latency", attributes={"latency": 9})
    assert client.all_clean() == [f"{WAN} has toxic f0-latency-downstream"]
    client.remove_toxic(WAN, "f0-latency-downstream")
    assert client.all_clean() == []


def test_a_baseline_toxic_name_on_another_link_is_a_leftover(
    fake: tuple[str, dict[str, Any]],
) -> None:
    url, state = fake
    with_wan(state)
    client = ToxiproxyClient(url, baseline=wan_baseline())
    # the baseline of the WAN link says nothing about the edge: the same name there is dirty
    client.add_toxic(
        "edge-us-east", name="wan-latency-upstream", type="latency", attributes={"latency": 1}
    )
    assert client.all_clean() == ["edge-us-east has toxic wan-latency-upstream"]


def test_the_stacks_links_carry_the_wan_latency_it_was_started_with() -> None:
    client = stack_links(replace(ENDPOINTS, wan_latency_ms=20))
    assert client.url == ENDPOINTS.toxiproxy
    assert client.baseline == tuple(wan_toxics(20))
    assert stack_links(replace(ENDPOINTS, wan_latency_ms=0)).baseline == ()
