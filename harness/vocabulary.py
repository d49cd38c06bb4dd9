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
# The headers between users and the stack: a user's home region (a label of every client
# metric; the DNS answer, not this header, decides where the user goes) and the region whose
# web tier answered (on every answer).
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
Invariant = Literal["no_lost_writes", "no_lost_jobs", "read_your_writes", "single_primary"]
INVARIANTS: tuple[str, ...] = get_args(Invariant)

# Sites: each region is a data centre of its own (a Docker network), and a third site, the
# witness, holds what must survive either region: the failover manager's consensus store
# (etcd) and the observer (Prometheus). The DNS server that sends users to a region sits
# there too: a region's loss must not take the directory of regions with it.
WITNESS_SITE = "witness"
# One-way latency between the two regions' data centres: about what light in fibre and a few
# routers cost between the US coasts (a round trip of about 70 ms).
DEFAULT_WAN_LATENCY_MS = 35
SITES: tuple[str, ...] = (*REGIONS, WITNESS_SITE)

# Geo DNS: users find the service by name, and the stack's DNS server answers by the client's
# network (EDNS Client Subnet) with its home region's entry while that entry passes the
# server's health check, else the other region's. A user presents its home region's subnet:
# RFC 5737 documentation ranges, a label inside a DNS query and never an address any traffic
# goes to. Each region's entry listens on a loopback address of its own, on one port for both,
# so the DNS answer alone decides where a user goes.
SERVICE_NAME = "app.chaos.test"  # .test: reserved, never resolvable outside (RFC 2606)
CLIENT_SUBNETS: dict[str, str] = {"us-east": "198.51.100.0/24", "us-west": "203.0.113.0/24"}
ENTRY_ADDRESSES: dict[str, str] = {"us-east": "127.0.1.1", "us-west": "127.0.2.1"}
# Defaults of the stack settings `dns_ttl_s` and `dns_check_interval_s`: a short TTL and fast
# checks, as managed DNS failover offers them (Route 53's fast checks run every 10 s; TTLs of
# failover records are commonly 5-60 s), scaled to runs of a minute or two.
DEFAULT_DNS_TTL_S = 10
DEFAULT_DNS_CHECK_INTERVAL_S = 2


# Services: singletons, per region an entry (its load balancer), a queue, a copy of every
# shard (a node), and a web and a worker tier whose instances are numbered from 1
# (`web-us-east-1`).
SINGLE_SERVICES: tuple[str, ...] = ("dns", "toxiproxy", "prometheus", "witness")
REGIONAL_TIERS: tuple[str, ...] = ("web", "worker")


def shard_node(shard: int, region: str) -> str:
    """A shard's copy in one region, and the failover manager's member name: `shard-0-us-east`."""
    return f"shard-{shard}-{region}"


def shard_nodes(shard: int) -> list[str]:
    """Every copy of a shard, one per region."""
    return [shard_node(shard, region) for region in REGIONS]


def region_of_node(node: str) -> str | None:
    """The region of a shard node (`shard-0-us-east` -> `us-east`); None for anything else."""
    return next((r for r in REGIONS if node.endswith(f"-{r}") and node.startswith("shard-")), None)


def queue_service(region: str) -> str:
    return f"queue-{region}"


def entry_service(region: str) -> str:
    """A region's entry: the load balancer in front of its web tier, the DNS answer's target."""
    return f"entry-{region}"


def regional_services(region: str) -> list[str]:
    """Every service that lives in a region's data centre (what `mode: stop` stops)."""
    return [
        entry_service(region),
        *(tier_service(t, region) for t in REGIONAL_TIERS),
        queue_service(region),
        *(shard_node(s, region) for s in range(SHARD_COUNT)),
    ]


def tier_service(tier: str, region: str) -> str:
    """The group name of a regional tier: `worker-us-east` (all its replicas)."""
    return f"{tier}-{region}"


def instance_names(tier: str, region: str, count: int) -> list[str]:
    """The instances of a regional tier: `web-us-east-1` .. `web-us-east-<count>`."""
    return [f"{tier_service(tier, region)}-{i}" for i in range(1, count + 1)]


def all_services() -> list[str]:
    """Every service name a fault may target."""
    return [
        *SINGLE_SERVICES,
        *(svc for r in REGIONS for svc in regional_services(r)),
    ]


# Toxiproxy links. Inside a region: its edge (users -> the region's entry), and its web and
# workers to the region's queue and to the region's copy of every shard. The WAN, between
# sites: into every shard node from the other region (PostgreSQL, and Patroni's REST API),
# and from each region to the witness. Nothing crosses sites except through these.
def edge_link_name(region: str) -> str:
    return f"edge-{region}"


def queue_link_name(region: str) -> str:
    return f"queue-{region}"


def shard_link_name(shard: int, region: str) -> str:
    return f"shard{shard}-{region}"


def wan_pg_link_name(shard: int, region: str) -> str:
    """Into `shard_node(shard, region)`'s PostgreSQL from the other region."""
    return f"wan-shard{shard}-{region}"


def wan_api_link_name(shard: int, region: str) -> str:
    """Into `shard_node(shard, region)`'s Patroni REST API from the other region."""
    return f"wan-api{shard}-{region}"


def witness_link_name(region: str) -> str:
    return f"witness-{region}"


def region_link_names(region: str) -> list[str]:
    """The links inside a region, edge first."""
    shards = [shard_link_name(s, region) for s in range(SHARD_COUNT)]
    return [edge_link_name(region), queue_link_name(region), *shards]


def wan_link_names() -> list[str]:
    """Every link between the two regions (in both directions)."""
    return [
        name
        for r in REGIONS
        for s in range(SHARD_COUNT)
        for name in (wan_pg_link_name(s, r), wan_api_link_name(s, r))
    ]


LINK_NAMES: tuple[str, ...] = (
    *(name for r in REGIONS for name in region_link_names(r)),
    *wan_link_names(),
    *(witness_link_name(r) for r in REGIONS),
)

# What every acknowledged write's answer says about where it was committed (the ledger keeps
# it): the shard node, its PostgreSQL timeline (a new one begins at each promotion) and the
# commit's time on the stack's clock (the host's: containers share its kernel clock).
COMMITTED_BY_HEADER = "X-Committed-By"
COMMIT_TIMELINE_HEADER = "X-Commit-Timeline"
COMMIT_TIME_HEADER = "X-Commit-Time"
# A write the web tier refused before sending it to any database says so (a definite no).
WRITE_OUTCOME_HEADER = "X-Write-Outcome"
# Every write the load generator sends carries an id of its own, which the regions' entries
# log: a write with no answer that no entry logged never reached the stack.
REQUEST_ID_HEADER = "X-Request-Id"
NOT_WRITTEN = "not-written"
