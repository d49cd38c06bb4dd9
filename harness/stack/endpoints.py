"""Where the running stack answers on the host: loopback URLs discovered from Docker."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.stack import topology as t
from harness.vocabulary import ENTRY_ADDRESSES, queue_service

Ports = dict[str, dict[int, int]]  # instance -> container port -> host port


@dataclass(frozen=True, kw_only=True)
class Endpoints:
    # Per region, its entry as users reach it: http://<the region's loopback address>:PORT,
    # one port for both (ENTRY_ADDRESSES). Which one a user goes to is the DNS server's answer.
    entries: dict[str, str]
    entry_port: int
    dns: str  # the DNS server, host:port on 127.0.0.1 (UDP and TCP)
    prometheus: str
    toxiproxy: str
    queues: dict[str, str]  # region -> redis://127.0.0.1:PORT/0 of its queue
    # Per shard (in shard order), its nodes' postgresql://harness@127.0.0.1:PORT/harness, in
    # region order: which one is the primary is the failover manager's business.
    shards: tuple[tuple[str, ...], ...]
    gateway: str  # the stack network's gateway: where host-side exporters bind
    # Per shard, its nodes' Patroni REST API (http://127.0.0.1:PORT), in region order.
    patroni: tuple[tuple[str, ...], ...] = ()
    wan_latency_ms: int = 0  # the WAN's one-way latency the stack was started with

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def host_port(ports: Ports, instance: str, container_port: int) -> int:
    try:
        return ports[instance][container_port]
    except KeyError:
        raise KeyError(f"{instance} publishes no port {container_port}") from None


def endpoints_from_ports(ports: Ports, *, gateway: str, wan_latency_ms: int = 0) -> Endpoints:
    """Pure: build the URLs from discovered host ports (on 127.0.0.1, but for the entries)."""

    def url(instance: str, port: int, scheme: str = "http", path: str = "") -> str:
        return f"{scheme}://127.0.0.1:{host_port(ports, instance, port)}{path}"

    entry_port = host_port(ports, "toxiproxy", t.edge_link(t.REGIONS[0]).listen_port)
    return Endpoints(
        entries={r: f"http://{ENTRY_ADDRESSES[r]}:{entry_port}" for r in t.REGIONS},
        entry_port=entry_port,
        dns=f"127.0.0.1:{host_port(ports, 'dns', t.DNS_PORT)}",
        prometheus=url("prometheus", t.PROMETHEUS_PORT),
        toxiproxy=url("toxiproxy", t.TOXIPROXY_API_PORT),
        queues={
            r: url(queue_service(r), t.QUEUE_PORT, scheme="redis", path="/0") for r in t.REGIONS
        },
        shards=tuple(
            tuple(
                f"postgresql://{t.DB_USER}@127.0.0.1:"
                f"{host_port(ports, t.shard_node(s, r), t.SHARD_PORT)}/{t.DB_NAME}"
                for r in t.REGIONS
            )
            for s in range(t.SHARD_COUNT)
        ),
        gateway=gateway,
        patroni=tuple(
            tuple(url(t.shard_node(s, r), t.PATRONI_PORT) for r in t.REGIONS)
            for s in range(t.SHARD_COUNT)
        ),
        wan_latency_ms=wan_latency_ms,
    )


def parse_published(port_attrs: dict[str, list[dict[str, str]] | None]) -> dict[int, int]:
    """Docker's NetworkSettings.Ports -> {container port: host port} for loopback bindings
    (any address of 127.0.0.0/8: the entries have addresses of their own)."""
    found: dict[int, int] = {}
    for key, bindings in port_attrs.items():
        for binding in bindings or []:
            host_ip = binding.get("HostIp", "")
            if (host_ip == "" or host_ip.startswith("127.")) and binding.get("HostPort"):
                found[int(key.split("/")[0])] = int(binding["HostPort"])
    return found
