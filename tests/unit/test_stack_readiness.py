"""The harness's readiness probes and routing wait, against tiny servers on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from harness.errors import InfraError
from harness.stack import readiness
from harness.stack.health import routed_home, wait_routed
from harness.stack.probes import Probe, http, postgres, redis_ping
from harness.vocabulary import HOME_HEADER, SERVED_HEADER


@pytest.mark.parametrize(
    "probe",
    [http(8080, "/healthz"), http(8474, "/version"), redis_ping(6379), postgres(5432, "harness")],
)
def test_a_probe_survives_its_label(probe: Probe) -> None:
    assert Probe.from_label(probe.label()) == probe


@pytest.mark.parametrize("label", ["", "tcp:80", "http:", "http:x/healthz", "nonsense"])
def test_an_unknown_label_is_no_probe(label: str) -> None:
    assert Probe.from_label(label) is None


class Handler(BaseHTTPRequestHandler):
    status = 200
    served: ClassVar[dict[str, str]] = {}  # home region -> serving region

    def do_GET(self) -> None:
        self.send_response(self.status)
        home = self.headers.get(HOME_HEADER, "")
        self.send_header(SERVED_HEADER, self.served.get(home, home))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    Handler.status, Handler.served = 200, {}
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_http_probe_wants_a_200(server: ThreadingHTTPServer) -> None:
    port = server.server_address[1]
    assert readiness.check(http(8080, "/healthz"), port) is None
    Handler.status = 503
    assert "answered 503" in (readiness.check(http(8080, "/healthz"), port) or "")


def test_probes_say_why_they_fail_and_never_raise() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert "not published" in (readiness.check(redis_ping(6379), None) or "")
    for probe in (http(1, "/"), redis_ping(1), postgres(1, "harness")):
        why = readiness.check(probe, port)
        assert why is not None and probe.kind in why


def test_a_redis_probe_wants_pong() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def answer(reply: bytes) -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(64)
                conn.sendall(reply)

        port = listener.getsockname()[1]
        for reply, ready in ((b"+PONG\r\n", True), (b"-LOADING\r\n", False)):
            thread = threading.Thread(target=answer, args=(reply,))
            thread.start()
            assert (readiness.check(redis_ping(6379), port) is None) is ready
            thread.join()


def test_routing_is_ready_only_when_every_region_is_served_at_home(
    server: ThreadingHTTPServer,
) -> None:
    router = f"http://127.0.0.1:{server.server_address[1]}"
    Handler.served = {"us-west": "us-east"}  # the router has not seen us-west rise yet
    assert routed_home(router, "us-east") is None
    assert "from us-east" in (routed_home(router, "us-west") or "")
    with pytest.raises(InfraError, match="home region"):
        wait_routed(router, ["us-east", "us-west"], timeout_s=0.3, progress=lambda _: None)
    Handler.served = {}
    wait_routed(router, ["us-east", "us-west"], timeout_s=0.3, progress=lambda _: None)
