"""The harness's readiness probes and routing wait (the DNS server's answer for each region,
then that entry's /healthz), against tiny servers on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from harness.errors import InfraError
from harness.net import free_port_on
from harness.stack import readiness
from harness.stack.endpoints import Endpoints
from harness.stack.health import routed_home, wait_routed
from harness.stack.probes import Probe, http, postgres, redis_ping
from harness.vocabulary import (
    CLIENT_SUBNETS,
    ENTRY_ADDRESSES,
    HOME_HEADER,
    REGIONS,
    SERVED_HEADER,
    SERVICE_NAME,
)
from tests.fakes import ENDPOINTS, FakeDnsServer


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


class Entry(BaseHTTPRequestHandler):
    """A region's entry as users reach it: it answers from its region's web tier (its
    SERVED_HEADER), or as `Entries.served` / `Entries.status` say."""

    def do_GET(self) -> None:
        region = REGION_OF[self.connection.getsockname()[0]]  # the address it was reached at
        Entries.requests.append((region, self.path, self.headers.get("Host", "")))
        self.send_response(Entries.status.get(region, 200))
        self.send_header(SERVED_HEADER, Entries.served.get(region, region))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


REGION_OF = {address: region for region, address in ENTRY_ADDRESSES.items()}
HOME_ANSWERS = {CLIENT_SUBNETS[r]: ENTRY_ADDRESSES[r] for r in REGIONS}


class Entries:
    """Both regions' entries on their own loopback addresses at one port, as published."""

    served: ClassVar[dict[str, str]] = {}
    status: ClassVar[dict[str, int]] = {}
    requests: ClassVar[list[tuple[str, str, str]]] = []

    def __init__(self) -> None:
        Entries.served, Entries.status, Entries.requests = {}, {}, []
        self.port = free_port_on(list(ENTRY_ADDRESSES.values()))
        self.servers = [
            ThreadingHTTPServer((a, self.port), Entry) for a in ENTRY_ADDRESSES.values()
        ]
        for srv in self.servers:
            threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()


@pytest.fixture
def entries() -> Iterator[Entries]:
    both = Entries()
    yield both
    both.close()


def endpoints_for(dns: FakeDnsServer, entry_port: int) -> Endpoints:
    return replace(ENDPOINTS, dns=f"127.0.0.1:{dns.port}", entry_port=entry_port)


def test_a_region_is_routed_home_when_the_dns_answers_its_entry_and_its_web_tier_serves(
    entries: Entries,
) -> None:
    with FakeDnsServer(HOME_ANSWERS) as dns:
        endpoints = endpoints_for(dns, entries.port)
        assert [routed_home(endpoints, r) for r in REGIONS] == [None, None]
        wait_routed(endpoints, REGIONS, timeout_s=0.3, progress=lambda _: None)
    # asked as each region's users ask: with the region's client subnet
    assert [subnet for _, subnet in dns.seen[:2]] == [CLIENT_SUBNETS[r] for r in REGIONS]
    # and each entry was asked for /healthz, by the service's name
    assert Entries.requests[:2] == [(r, "/healthz", SERVICE_NAME) for r in REGIONS]


def test_a_region_whose_users_the_dns_sends_elsewhere_is_not_routed_home(
    entries: Entries,
) -> None:
    # the DNS server has not seen us-west's entry pass its check yet: us-east's entry answers
    answers = {**HOME_ANSWERS, CLIENT_SUBNETS["us-west"]: ENTRY_ADDRESSES["us-east"]}
    with FakeDnsServer(answers) as dns:
        endpoints = endpoints_for(dns, entries.port)
        assert routed_home(endpoints, "us-east") is None
        why = routed_home(endpoints, "us-west")
        assert why == "the DNS sends us-west users to 127.0.1.1 (us-east)"
        said: list[str] = []
        with pytest.raises(InfraError, match="not sent to their home region") as caught:
            wait_routed(endpoints, REGIONS, timeout_s=0.3, progress=said.append)
        assert why in caught.value.message
        assert said == [f"waiting for each region's users to be sent home ({why})"]
        dns.answers = dict(HOME_ANSWERS)  # the check passes: us-west's users go home
        wait_routed(endpoints, REGIONS, timeout_s=0.3, progress=lambda _: None)


def test_an_answer_that_is_no_entry_is_named_as_such(entries: Entries) -> None:
    answers = {**HOME_ANSWERS, CLIENT_SUBNETS["us-east"]: "192.0.2.7"}
    with FakeDnsServer(answers) as dns:
        why = routed_home(endpoints_for(dns, entries.port), "us-east")
    assert why == "the DNS sends us-east users to 192.0.2.7 (other)"


@pytest.mark.parametrize(
    ("mode", "said"), [("SERVFAIL", "answered SERVFAIL"), ("empty", "no A record")]
)
def test_no_dns_answer_says_why(entries: Entries, mode: str, said: str) -> None:
    with FakeDnsServer(HOME_ANSWERS, mode=mode) as dns:
        why = routed_home(endpoints_for(dns, entries.port), "us-west")
    assert why is not None and why.startswith("DNS app.chaos.test A from 127.0.0.1:")
    assert said in why and "for us-west" in why
    assert Entries.requests == []  # no answer, no entry to ask


def test_an_entry_that_is_not_served_by_its_region_or_fails_is_not_routed_home(
    entries: Entries,
) -> None:
    with FakeDnsServer(HOME_ANSWERS) as dns:
        endpoints = endpoints_for(dns, entries.port)
        Entries.status = {"us-east": 503}
        assert routed_home(endpoints, "us-east") == "a us-east user got 503 from us-east"
        Entries.status, Entries.served = {}, {"us-west": "us-east"}
        assert routed_home(endpoints, "us-west") == "a us-west user got 200 from us-east"
        assert routed_home(endpoints, "us-east") is None


def test_an_entry_that_does_not_answer_is_named() -> None:
    port = free_port_on(list(ENTRY_ADDRESSES.values()))  # nothing listens there
    with FakeDnsServer(HOME_ANSWERS) as dns:
        why = routed_home(endpoints_for(dns, port), "us-west")
    assert why == "us-west's entry did not answer: ConnectionError"
