"""The fixed shape of the bundled stack: regions, shards, links, ports.

This module is the contract between the harness and the programs in target-stack/: names and
ports here are what the images listen on and what the harness, the scenarios and the faults
refer to. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness import vocabulary as v

# The names live in harness.vocabulary; kept here too because this module is where the stack's
# shape is read.
REGIONS = v.REGIONS
SHARD_COUNT = v.SHARD_COUNT
shard_of = v.shard_of

SITES = v.SITES
WITNESS_SITE = v.WITNESS_SITE
shard_node = v.shard_node

# Ports inside the containers (host ports are chosen by Docker and discovered).
WEB_PORT = 8080  # web API and its /metrics
WORKER_METRICS_PORT = 9100  # worker /metrics and /healthz
ENTRY_PORT = 8080  # a region entry's front end
ENTRY_METRICS_PORT = (
    8405  # an entry's HAProxy Prometheus exporter (/metrics) and stats page (/stats)
)
QUEUE_PORT = 6379
QUEUE_EXPORTER_PORT = 9121
SHARD_PORT = 5432
SHARD_EXPORTER_PORT = 9187
PATRONI_PORT = 8008  # Patroni's REST API on every shard node
WITNESS_PORT = 2379  # etcd's client port
PATRONI_NAMESPACE = "/chaos/"  # etcd key prefix: /chaos/shard-0/leader
TOXIPROXY_API_PORT = 8474
PROMETHEUS_PORT = 9090
DNS_PORT = 53  # the DNS server, UDP and TCP
DNS_METRICS_PORT = 8081  # PowerDNS's webserver: /metrics

QUEUE_STREAM = "photo-jobs"
QUEUE_GROUP = "photo-workers"
DB_NAME = "harness"
DB_USER = "harness"


@dataclass(frozen=True, kw_only=True)
class Link:
    """One Toxiproxy proxy: clients reach `upstream` through `toxiproxy:listen_port`.

    `region` is where the clients are (for a WAN link: the other region, or for a witness
    link the region it serves); `kind` is "edge", "queue", "shard" (inside a region),
    "wan" (into a shard node from the other region) or "witness"."""

    name: str
    region: str
    kind: str
    listen_port: int
    upstream: str  # host:port on a site network
    shard: int | None = None


def region_index(region: str) -> int:
    return REGIONS.index(region)


def other_region(region: str) -> str:
    return next(r for r in REGIONS if r != region)


def edge_link(region: str) -> Link:
    return Link(
        name=v.edge_link_name(region),
        region=region,
        kind="edge",
        listen_port=20000 + region_index(region),
        upstream=f"{v.entry_service(region)}:{ENTRY_PORT}",
    )


def queue_link(region: str) -> Link:
    return Link(
        name=v.queue_link_name(region),
        region=region,
        kind="queue",
        listen_port=21000 + region_index(region),
        upstream=f"{v.queue_service(region)}:{QUEUE_PORT}",
    )


def shard_link(shard: int, region: str) -> Link:
    """Region `region`'s clients to its own copy of `shard`."""
    return Link(
        name=v.shard_link_name(shard, region),
        region=region,
        kind="shard",
        listen_port=22000 + 10 * region_index(region) + shard,
        upstream=f"{shard_node(shard, region)}:{SHARD_PORT}",
        shard=shard,
    )


def wan_pg_link(shard: int, region: str) -> Link:
    """The other region's clients (its web, workers and its copy's replication) to the copy of
    `shard` in `region`: the node's connect address for everyone outside its region."""
    return Link(
        name=v.wan_pg_link_name(shard, region),
        region=other_region(region),
        kind="wan",
        listen_port=23000 + 10 * region_index(region) + shard,
        upstream=f"{shard_node(shard, region)}:{SHARD_PORT}",
        shard=shard,
    )


def wan_api_link(shard: int, region: str) -> Link:
    """The other region's Patroni to this node's REST API (leader race, rewind checks)."""
    return Link(
        name=v.wan_api_link_name(shard, region),
        region=other_region(region),
        kind="wan",
        listen_port=23500 + 10 * region_index(region) + shard,
        upstream=f"{shard_node(shard, region)}:{PATRONI_PORT}",
        shard=shard,
    )


def witness_link(region: str) -> Link:
    return Link(
        name=v.witness_link_name(region),
        region=region,
        kind="witness",
        listen_port=24000 + region_index(region),
        upstream=f"witness:{WITNESS_PORT}",
    )


def region_links(region: str) -> list[Link]:
    """The links inside a region: its edge (users -> its entry) and its queue and shard links."""
    return [
        edge_link(region),
        queue_link(region),
        *(shard_link(s, region) for s in range(SHARD_COUNT)),
    ]


def wan_links() -> list[Link]:
    """Every link between the regions, both directions."""
    return [
        link
        for r in REGIONS
        for s in range(SHARD_COUNT)
        for link in (wan_pg_link(s, r), wan_api_link(s, r))
    ]


def witness_links() -> list[Link]:
    return [witness_link(r) for r in REGIONS]


def shard_links(shard: int) -> list[Link]:
    """Every way into a shard's nodes: each region to its own copy, and over the WAN."""
    return [
        *(shard_link(shard, r) for r in REGIONS),
        *(wan_pg_link(shard, r) for r in REGIONS),
    ]


def isolation_links(region: str) -> list[Link]:
    """What cuts a region off from the other and from the witness: the region's witness link
    first, then every WAN link (with two regions each one has an end in `region`).

    Witness first because the links go one by one (about 25 ms each): with the witness last,
    a primary that saw its standby's stream end in those 0.4 s still reached etcd and took the
    standby out of Patroni's /sync key, so the other region had no copy it may promote and the
    shard stayed without writes for the whole outage (region-outage, shard 0: 61 s). A real
    region goes dark at once; cut from the witness first, the primary can no longer say so."""
    return [witness_link(region), *wan_links()]


def all_links() -> list[Link]:
    return [
        *(link for region in REGIONS for link in region_links(region)),
        *wan_links(),
        *witness_links(),
    ]


LINK_NAMES = v.LINK_NAMES


def link_by_name(name: str) -> Link:
    for link in all_links():
        if link.name == name:
            return link
    raise KeyError(name)
