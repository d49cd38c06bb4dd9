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

# Ports inside the containers (host ports are chosen by Docker and discovered).
WEB_PORT = 8080  # web API and its /metrics
WORKER_METRICS_PORT = 9100  # worker /metrics and /healthz
ROUTER_PORT = 8080  # geo router front end
ROUTER_METRICS_PORT = 8405  # HAProxy's Prometheus exporter (/metrics) and stats page (/stats)
QUEUE_PORT = 6379
QUEUE_EXPORTER_PORT = 9121
SHARD_PORT = 5432
SHARD_EXPORTER_PORT = 9187
TOXIPROXY_API_PORT = 8474
PROMETHEUS_PORT = 9090

QUEUE_STREAM = "photo-jobs"
QUEUE_GROUP = "photo-workers"
DB_NAME = "harness"
DB_USER = "harness"


@dataclass(frozen=True, kw_only=True)
class Link:
    """One Toxiproxy proxy: clients in `region` reach `upstream` through `toxiproxy:listen_port`."""

    name: str
    region: str
    kind: str  # "edge", "queue" or "shard"
    listen_port: int
    upstream: str  # host:port on the stack network
    shard: int | None = None


def region_index(region: str) -> int:
    return REGIONS.index(region)


def edge_link(region: str) -> Link:
    return Link(
        name=v.edge_link_name(region),
        region=region,
        kind="edge",
        listen_port=20000 + region_index(region),
        upstream=f"{v.tier_service('web', region)}:{WEB_PORT}",
    )


def queue_link(region: str) -> Link:
    return Link(
        name=v.queue_link_name(region),
        region=region,
        kind="queue",
        listen_port=21000 + region_index(region),
        upstream=f"queue:{QUEUE_PORT}",
    )


def shard_link(shard: int, region: str) -> Link:
    return Link(
        name=v.shard_link_name(shard, region),
        region=region,
        kind="shard",
        listen_port=22000 + 10 * region_index(region) + shard,
        upstream=f"{v.shard_service(shard)}:{SHARD_PORT}",
        shard=shard,
    )


def region_links(region: str) -> list[Link]:
    """Every link of a region: its edge (router -> web) and its outbound links."""
    return [
        edge_link(region),
        queue_link(region),
        *(shard_link(s, region) for s in range(SHARD_COUNT)),
    ]


def all_links() -> list[Link]:
    return [link for region in REGIONS for link in region_links(region)]


LINK_NAMES = v.LINK_NAMES


def link_by_name(name: str) -> Link:
    for link in all_links():
        if link.name == name:
            return link
    raise KeyError(name)
