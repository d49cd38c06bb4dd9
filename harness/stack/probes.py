"""How the harness itself tells that a service is ready: one protocol-level probe per service.

Pure data. Readiness used to be Docker's own health check every second: about 11 `docker
exec`s a second for the idle stack, each a fresh interpreter through dockerd, containerd and a
shim, most of the 0.8-1.04 cores the idle stack kept busy. The harness now probes each service
from the host through its published loopback port (`harness.stack.readiness` does the I/O),
only while it waits (`up`, a reused stack, `status`), and costs nothing in between.

There is no plain TCP kind on purpose: a published port is held by Docker's userland proxy,
which accepts a connection whether or not the service behind it listens. Only an answer in the
service's own protocol says that it is there.

The probe is stored on each container as a label (`io.chaos-harness.probe`), so a running
stack's containers can be probed from Docker alone, without the config that made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProbeKind = Literal["http", "redis", "postgres"]
_KINDS: tuple[ProbeKind, ...] = ("http", "redis", "postgres")


@dataclass(frozen=True, kw_only=True)
class Probe:
    """`http`: GET `path` answers 200; `redis`: PING answers PONG; `postgres`: a query runs
    in the database `path` names (`/harness`). `port` is the container port; its loopback
    host port is discovered."""

    kind: ProbeKind
    port: int
    path: str = ""

    def label(self) -> str:
        """As stored in the container label: `http:8080/healthz`, `redis:6379`."""
        return f"{self.kind}:{self.port}{self.path}"

    @staticmethod
    def from_label(text: str) -> Probe | None:
        """The probe a label names; None for a label this version does not know."""
        kind, sep, rest = text.partition(":")
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        if not sep or kind not in _KINDS or not digits:
            return None
        return Probe(kind=kind, port=int(digits), path=rest[len(digits) :])


def http(port: int, path: str) -> Probe:
    return Probe(kind="http", port=port, path=path)


def redis_ping(port: int) -> Probe:
    return Probe(kind="redis", port=port)


def postgres(port: int, database: str) -> Probe:
    return Probe(kind="postgres", port=port, path=f"/{database}")
