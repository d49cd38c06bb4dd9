"""The harness's own /metrics (fault windows as `harness_fault_active`, and the DNS server's
answers: harness/run/dns_answers.py), scraped by the stack.

Prometheus runs in a container; the harness on the host. The exporter binds on the stack
network's gateway address (reachable from containers, not from other machines) and tells
Prometheus where it is through a file_sd file written into the Prometheus container.
"""

from __future__ import annotations

import socket
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Gauge, start_http_server

from harness.errors import InfraError
from harness.net import free_port
from harness.run.dns_answers import DnsAnswers


def bindable_host(gateway: str) -> str:
    """The gateway address when this host owns it (Linux); loopback otherwise (Docker Desktop,
    where host.docker.internal reaches the host's loopback)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((gateway, 0))
    except OSError:
        return "127.0.0.1"
    return gateway


class FaultExporter:
    """Serves `harness_fault_active{fault,target,index}`: 1 while a fault is in place
    (implements `harness.ports.FaultGauge`)."""

    def __init__(self, host: str, *, dns: str = "") -> None:
        self.registry = CollectorRegistry()
        if dns:  # and where the stack's DNS server sends each region's users, per scrape
            self.registry.register(DnsAnswers(dns))
        self.active = Gauge(
            "harness_fault_active",
            "1 while the harness holds the fault in place (actual, not scheduled, times)",
            ["index", "fault", "target"],
            registry=self.registry,
        )
        self.host = host
        self.port = free_port(host)
        self._server: WSGIServer | None = None

    def start(self) -> str:
        try:
            server, _thread = start_http_server(self.port, addr=self.host, registry=self.registry)
        except OSError as exc:
            raise InfraError(
                f"cannot serve harness metrics on {self.host}:{self.port}: {exc}"
            ) from exc
        self._server = server
        return f"{self.host}:{self.port}"

    def set(self, index: int, fault: str, target: str, value: float) -> None:
        self.active.labels(index=str(index), fault=fault, target=target).set(value)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
