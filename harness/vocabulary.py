"""The words a scenario, the load generator, the PromQL shorthands and the stack share.

One place for every name that crosses a module boundary: regions, shards, the load's tasks,
the kinds of request an SLO may single out (and the route each is counted under), the
invariants, the services and the Toxiproxy links. A name is declared here once; the scenario
model, `harness.load`, `harness.slo` and `harness.stack` import it. Pure data, no imports of
the harness: everything may depend on this module, it depends on nothing.
"""

from __future__ import annotations

from typing import Literal, get_args

REGIONS: tuple[str, ...] = ("us-east", "us-west")
SHARD_COUNT = 4


def shard_of(user_id: int) -> int:
    """The shard a user lives on: the seed's `user_id % 4`."""
    return user_id % SHARD_COUNT


# What a simulated user does (the scenario's `load.tasks` keys).
Task = Literal["read_user", "create_user", "submit_photo", "read_job"]
TASKS: tuple[str, ...] = get_args(Task)

# The client's kinds of request, named like the load's tasks (the task `create_user` also reads
# the new user back, which counts as a `read_user` request).
Request = Literal["create_user", "read_user", "submit_photo", "read_job"]
REQUESTS: tuple[str, ...] = get_args(Request)

# Route templates: the names of Locust stats entries and the `route` label of client metrics.
# The headers between users and the stack: a user's home region (the router routes on it; a
# label of every client metric) and the region whose web tier answered (on every answer).
HOME_HEADER = "X-Home-Region"
SERVED_HEADER = "X-Served-Region"

ROUTE_CREATE_USER = "/users"
ROUTE_READ_USER = "/users/{id}"
ROUTE_SUBMIT_PHOTO = "/users/{id}/photos"
ROUTE_READ_JOB = "/jobs/{id}"

ROUTE_OF_REQUEST: dict[str, str] = {
    "create_user": ROUTE_CREATE_USER,
    "read_user": ROUTE_READ_USER,
    "submit_photo": ROUTE_SUBMIT_PHOTO,
    "read_job": ROUTE_READ_JOB,
}

# The data checks of a run (the scenario's `invariants`).
Invariant = Literal["no_lost_writes", "no_lost_jobs", "read_your_writes"]
INVARIANTS: tuple[str, ...] = get_args(Invariant)

# Services: four singletons, one container per shard, and per region a web and a worker tier
# whose instances are numbered from 1 (`web-us-east-1`).
SINGLE_SERVICES: tuple[str, ...] = ("geo-router", "queue", "toxiproxy", "prometheus")
REGIONAL_TIERS: tuple[str, ...] = ("web", "worker")


def shard_service(shard: int) -> str:
    return f"shard-{shard}"


def tier_service(tier: str, region: str) -> str:
    """The group name of a regional tier: `worker-us-east` (all its replicas)."""
    return f"{tier}-{region}"


def instance_names(tier: str, region: str, count: int) -> list[str]:
    """The instances of a regional tier: `web-us-east-1` .. `web-us-east-<count>`."""
    return [f"{tier_service(tier, region)}-{i}" for i in range(1, count + 1)]


# Toxiproxy links: an edge per region (router -> web), and per region its outbound links to
# the queue and to every shard.
def edge_link_name(region: str) -> str:
    return f"edge-{region}"


def queue_link_name(region: str) -> str:
    return f"queue-{region}"


def shard_link_name(shard: int, region: str) -> str:
    return f"shard{shard}-{region}"


def region_link_names(region: str) -> list[str]:
    """Every link of a region, edge first."""
    shards = [shard_link_name(s, region) for s in range(SHARD_COUNT)]
    return [edge_link_name(region), queue_link_name(region), *shards]


LINK_NAMES: tuple[str, ...] = tuple(name for r in REGIONS for name in region_link_names(r))
