"""harness/net.py: one host port free on several loopback addresses (the regions' entries
share one), for TCP and, when asked, UDP too."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from harness import net

ENTRIES = ["127.0.1.1", "127.0.2.1"]


@contextmanager
def taken(host: str, kind: socket.SocketKind = socket.SOCK_STREAM) -> Iterator[int]:
    """A port bound on `host` for `kind` while the block runs."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        yield int(s.getsockname()[1])


def offering(monkeypatch: pytest.MonkeyPatch, *ports: int) -> list[str]:
    """Make free_port propose `ports` in turn (then what the kernel offers); the hosts it was
    asked for are returned, in order."""
    asked: list[str] = []
    proposals = list(ports)
    real = net.free_port

    def propose(host: str = "127.0.0.1") -> int:
        asked.append(host)
        return proposals.pop(0) if proposals else real(host)

    monkeypatch.setattr(net, "free_port", propose)
    return asked


def test_the_port_is_free_on_every_address() -> None:
    port = net.free_port_on(ENTRIES)
    sockets = [socket.socket() for _ in ENTRIES]
    try:
        for s, host in zip(sockets, ENTRIES, strict=True):
            s.bind((host, port))  # raises if it was not free
    finally:
        for s in sockets:
            s.close()


def test_a_port_taken_on_one_address_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    with taken(ENTRIES[1]) as busy:  # free on the first address, not on the second
        asked = offering(monkeypatch, busy)
        port = net.free_port_on(ENTRIES)
    assert port != busy
    assert asked == [ENTRIES[0], ENTRIES[0]]  # proposed on the first address, then again


def test_udp_is_checked_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    with taken("127.0.0.1", socket.SOCK_DGRAM) as busy:  # TCP free, UDP taken
        offering(monkeypatch, busy)
        assert net.free_port_on(["127.0.0.1"]) == busy  # TCP alone: it will do
        offering(monkeypatch, busy)
        port = net.free_port_on(["127.0.0.1"], udp=True)
    assert port != busy
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as s:
        u.bind(("127.0.0.1", port))
        s.bind(("127.0.0.1", port))


def test_no_port_free_everywhere_after_the_tries_is_an_os_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with taken(ENTRIES[1]) as busy:
        asked = offering(monkeypatch, *[busy] * 3)
        with pytest.raises(OSError, match=r"no port free on all of 127\.0\.1\.1, 127\.0\.2\.1"):
            net.free_port_on(ENTRIES, tries=3)
    assert len(asked) == 3
