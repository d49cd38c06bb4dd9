"""The harness's own readiness probes, run from the host against published loopback ports.

Each probe is one bounded exchange in the service's own protocol (an HTTP GET, a Redis PING,
a PostgreSQL `SELECT 1`), so a stack is probed in well under a second, and only while
somebody waits for it. `check` never raises: it returns why a service is not ready.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

import psycopg
import requests

from harness.stack import topology as t
from harness.stack.probes import Probe

TIMEOUT_S = 1.0
PG_CONNECT_TIMEOUT_S = 2  # libpq's smallest connect_timeout
MAX_PARALLEL = 16
_PING = b"*1\r\n$4\r\nPING\r\n"


def check(probe: Probe, host_port: int | None) -> str | None:
    """None when the service answered as it should, else a short reason."""
    if host_port is None:
        return f"port {probe.port} is not published"
    try:
        if probe.kind == "http":
            return _http(host_port, probe.path)
        if probe.kind == "redis":
            return _redis(host_port)
        return _postgres(host_port, probe.path.lstrip("/"))
    except (OSError, requests.RequestException, psycopg.Error) as exc:
        return f"{probe.kind} probe failed: {type(exc).__name__}: {str(exc).strip()[:120]}"


def check_all(
    probes: Mapping[str, tuple[Probe, int | None]], *, parallel: int = MAX_PARALLEL
) -> dict[str, str | None]:
    """Probe several services at once: instance -> None (ready) or the reason it is not."""
    if not probes:
        return {}
    names: Iterable[str] = list(probes)
    with ThreadPoolExecutor(max_workers=min(parallel, len(probes))) as pool:
        results = pool.map(lambda n: check(*probes[n]), names)
        return dict(zip(probes, results, strict=True))


def _http(port: int, path: str) -> str | None:
    resp = requests.get(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT_S)
    return None if resp.status_code == 200 else f"GET {path} answered {resp.status_code}"


def _redis(port: int) -> str | None:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as sock:
        sock.sendall(_PING)
        reply = sock.recv(64)
    return None if reply.startswith(b"+PONG") else f"PING answered {reply[:40]!r}"


def _postgres(port: int, database: str) -> str | None:
    conninfo = f"postgresql://{t.DB_USER}@127.0.0.1:{port}/{database}"
    with psycopg.connect(conninfo, connect_timeout=PG_CONNECT_TIMEOUT_S, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 1000")
        conn.execute("SELECT 1")
    return None
