"""The Toxiproxy adapter against loopback stand-ins: bounded calls, named errors, one call each."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from harness.errors import InfraError
from harness.faults.toxiproxy_client import ToxiproxyClient


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
            self._send(204 if not s.get("reset_fails") else 500, {})
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
