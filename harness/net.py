"""Small host-network helpers shared by the load generator and the run's exporter."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free on `host` now (the caller's server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_port_on(hosts: list[str], *, udp: bool = False, tries: int = 50) -> int:
    """A port free on every one of `hosts` now (for TCP, and for UDP too with `udp`): one
    port for several addresses, as the regions' entries share one."""
    for _ in range(tries):
        port = free_port(hosts[0])
        if all(_free(h, port, socket.SOCK_STREAM) for h in hosts) and (
            not udp or all(_free(h, port, socket.SOCK_DGRAM) for h in hosts)
        ):
            return port
    raise OSError(f"no port free on all of {', '.join(hosts)} after {tries} tries")


def _free(host: str, port: int, kind: socket.SocketKind) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True
