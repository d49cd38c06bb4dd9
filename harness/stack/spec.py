"""The stack as data: which containers, with what image, command, environment and health check.

A pure function of StackConfig. The lifecycle module turns these specs into Docker calls;
tests read them without Docker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.stack import probes
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.dns_zone import dns_files, dns_settings
from harness.stack.patroni import PATRONI_FILE, leader_key, patroni_yaml
from harness.stack.probes import Probe
from harness.stack.scrape import prometheus_config
from harness.stack.toxiproxy_config import toxiproxy_config
from harness.vocabulary import ENTRY_ADDRESSES, entry_service, queue_service, tier_service

APP_IMAGE = "chaos-harness/app:latest"
ENTRY_IMAGE = "chaos-harness/entry:latest"
DNS_IMAGE = "chaos-harness/dns:latest"
QUEUE_IMAGE = "chaos-harness/queue:latest"
SHARD_IMAGE = "chaos-harness/shard:latest"
WITNESS_IMAGE = "chaos-harness/witness:latest"
PROMETHEUS_IMAGE = "chaos-harness/prometheus:latest"
TOXIPROXY_IMAGE = "ghcr.io/shopify/toxiproxy:2.12.0"

# No Docker health checks: readiness is probed by the harness (`probe` below), and `harness
# status` probes each service when asked, so a check of Docker's would only be a slower second
# opinion for `docker ps`. Each check is a `docker exec` through dockerd, containerd, a shim
# and runc: about 80 ms of the engine's CPU here, and at 30 s intervals the 20 checks were the
# idle stack's largest single cost (about 0.055 of its cores).


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    instance: str  # unique in the stack: "worker-us-east-2"
    service: str  # what faults and status group by: "worker-us-east"
    image: str
    # The sites (networks) it is on, the first being its own. Only Toxiproxy (the WAN) and
    # Prometheus (the observer) are on more than one.
    sites: tuple[str, ...] = (t.WITNESS_SITE,)
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)  # extra DNS names on the stack network
    publish: list[int] = field(default_factory=list)  # container ports published on 127.0.0.1
    # Container ports published each on a loopback address of its own, all at one host port
    # (the regions' entries: 127.0.1.1:P and 127.0.2.1:P, so a DNS answer alone decides
    # where a user goes).
    publish_on: dict[int, str] = field(default_factory=dict)
    # Container ports published on 127.0.0.1 for TCP and UDP alike, at one host port (DNS).
    publish_udp: list[int] = field(default_factory=list)
    probe: Probe  # how the harness tells it is ready, through a published port
    volume_path: str | None = None  # a named, labelled volume is mounted here
    files: dict[str, str] = field(
        default_factory=dict
    )  # absolute path -> content, put before start
    host_gateway: bool = False  # add host.docker.internal -> the host (scrapes the harness)
    start_last: bool = False  # started once every other container is ready (the entry)


def _links_env(region: str) -> dict[str, str]:
    """Reads go to the region's own copy of each shard; writes to whichever of the shard's
    nodes is the primary now (libpq-style multi-host, read-write target): its own copy first,
    then the other region's across the WAN."""
    local = [f"toxiproxy:{t.shard_link(s, region).listen_port}" for s in range(t.SHARD_COUNT)]
    remote = [
        f"toxiproxy:{t.wan_pg_link(s, t.other_region(region)).listen_port}"
        for s in range(t.SHARD_COUNT)
    ]
    return {
        "REGION": region,
        "QUEUE_ADDR": f"toxiproxy:{t.queue_link(region).listen_port}",
        "SHARD_ADDRS": ",".join(local),
        "SHARD_WRITE_ADDRS": ",".join(f"{a}|{b}" for a, b in zip(local, remote, strict=True)),
        "DB_NAME": t.DB_NAME,
        "DB_USER": t.DB_USER,
    }


def web_instances(config: StackConfig, region: str) -> list[str]:
    return [f"web-{region}-{i}" for i in range(1, config.web_replicas + 1)]


def worker_instances(config: StackConfig, region: str) -> list[str]:
    return [f"worker-{region}-{i}" for i in range(1, config.workers_per_region + 1)]


def _web(config: StackConfig, region: str) -> list[ContainerSpec]:
    return [
        ContainerSpec(
            instance=name,
            service=f"web-{region}",
            image=APP_IMAGE,
            sites=(region,),
            command=["python3", "/app/web.py"],
            env={
                **_links_env(region),
                "PORT": str(t.WEB_PORT),
                "BUG_ACK_BEFORE_COMMIT": "1" if "ack_before_commit" in config.bugs else "0",
                "BUG_SHARED_DB_POOL": "1" if "shared_db_pool" in config.bugs else "0",
                "BUG_STALE_READS": "1" if "stale_reads" in config.bugs else "0",
                "BUG_STICKY_PRIMARY": "1" if "sticky_primary" in config.bugs else "0",
            },
            aliases=[f"web-{region}"],  # the edge proxy's upstream; replicas share it
            publish=[t.WEB_PORT],  # for the harness's readiness probe
            probe=probes.http(t.WEB_PORT, "/healthz"),
        )
        for name in web_instances(config, region)
    ]


def _workers(config: StackConfig, region: str) -> list[ContainerSpec]:
    bug_env = {
        "BUG_ACK_BEFORE_PERSIST": "1" if "ack_before_persist" in config.bugs else "0",
        "BUG_NO_RECLAIM": "1" if "no_reclaim" in config.bugs else "0",
        # Seeded bug slow_workers: the simulated fetch of the original takes 1 s, not 200 ms,
        # so four workers finish about 4 jobs/s, fewer than the bundled loads submit.
        "PHOTO_FETCH_MS": "1000" if "slow_workers" in config.bugs else "200",
        "BUG_STICKY_PRIMARY": "1" if "sticky_primary" in config.bugs else "0",
    }
    return [
        ContainerSpec(
            instance=name,
            service=f"worker-{region}",
            image=APP_IMAGE,
            sites=(region,),
            command=["python3", "/app/worker.py"],
            env={
                **_links_env(region),
                **bug_env,
                "WORKER_NAME": name,
                "METRICS_PORT": str(t.WORKER_METRICS_PORT),
                "RECLAIM_IDLE_MS": str(config.reclaim_idle_ms),
            },
            aliases=[f"worker-{region}"],
            publish=[t.WORKER_METRICS_PORT],  # consumer_death polls /busy to kill mid-job
            probe=probes.http(t.WORKER_METRICS_PORT, "/healthz"),
        )
        for name in worker_instances(config, region)
    ]


def _data_tier(config: StackConfig, region: str) -> list[ContainerSpec]:
    """A region's queue and its copy of every shard (a Patroni-run PostgreSQL node)."""
    queue = ContainerSpec(
        instance=queue_service(region),
        service=queue_service(region),
        image=QUEUE_IMAGE,
        sites=(region,),
        publish=[t.QUEUE_PORT],
        probe=probes.redis_ping(t.QUEUE_PORT),
        volume_path="/data",
    )
    nodes = []
    for s in range(t.SHARD_COUNT):
        node = t.shard_node(s, region)
        nodes.append(
            ContainerSpec(
                instance=node,
                service=node,
                image=SHARD_IMAGE,
                sites=(region,),
                env={
                    # The primary's node starts from the image's cluster; its peer clones it.
                    "BOOTSTRAP": "leader" if config.primary_region(s) == region else "replica",
                    "ETCD_ADDR": f"toxiproxy:{t.witness_link(region).listen_port}",
                    "LEADER_KEY": leader_key(s),
                },
                publish=[t.SHARD_PORT, t.PATRONI_PORT],
                probe=probes.postgres(t.SHARD_PORT, t.DB_NAME),
                volume_path="/var/lib/postgresql/data",
                files={PATRONI_FILE: patroni_yaml(config, s, region)},
            )
        )
    return [queue, *nodes]


def _witness() -> ContainerSpec:
    return ContainerSpec(
        instance="witness",
        service="witness",
        image=WITNESS_IMAGE,
        publish=[t.WITNESS_PORT],
        probe=probes.http(t.WITNESS_PORT, "/health"),
    )


def _entry(region: str) -> ContainerSpec:
    """The region's entry: HAProxy in front of its web replicas, inside the region. Users
    reach it only through its edge link (Toxiproxy, published on the region's own loopback
    address), so a region's outage, cut or stopped, takes its entry with it."""
    return ContainerSpec(
        instance=entry_service(region),
        service=entry_service(region),
        image=ENTRY_IMAGE,
        sites=(region,),
        start_last=True,  # once the web tier answers: the DNS checks see it healthy at once
        env={
            "ENTRY_REGION": region,
            "WEB_ADDR": f"{tier_service('web', region)}:{t.WEB_PORT}",
        },
        publish=[t.ENTRY_METRICS_PORT],
        probe=probes.http(t.ENTRY_METRICS_PORT, "/stats"),
    )


def _dns(config: StackConfig) -> ContainerSpec:
    """The geo DNS server (PowerDNS), in the witness site: it answers the service's name with
    the entry of the asking user's region while that entry passes its check, else the other
    region's (harness/stack/dns_zone.py)."""
    settings = dns_settings(
        ttl_s=config.dns_ttl_s,
        check_interval_s=config.dns_check_interval_s,
        static="dns_static" in config.bugs,
        failover="failover_off" not in config.bugs,
    )
    return ContainerSpec(
        instance="dns",
        service="dns",
        image=DNS_IMAGE,
        start_last=True,  # its first checks find the entries up
        publish=[t.DNS_METRICS_PORT],
        publish_udp=[t.DNS_PORT],
        probe=probes.http(t.DNS_METRICS_PORT, "/metrics"),
        files=dns_files(settings),
    )


def _toxiproxy() -> ContainerSpec:
    return ContainerSpec(
        instance="toxiproxy",
        service="toxiproxy",
        image=TOXIPROXY_IMAGE,
        sites=t.SITES,  # the WAN: the only way between sites
        # Each region's edge on that region's own loopback address, one port for both.
        publish_on={t.edge_link(r).listen_port: ENTRY_ADDRESSES[r] for r in t.REGIONS},
        command=[
            "-host=0.0.0.0",
            f"-port={t.TOXIPROXY_API_PORT}",
            "-config=/toxiproxy.json",
            "-proxy-metrics",  # (no -runtime-metrics: Go runtime series are dropped anyway)
        ],
        publish=[t.TOXIPROXY_API_PORT],
        probe=probes.http(t.TOXIPROXY_API_PORT, "/version"),
        files={"/toxiproxy.json": toxiproxy_config()},
    )


def _prometheus(config: StackConfig) -> ContainerSpec:
    return ContainerSpec(
        instance="prometheus",
        service="prometheus",
        image=PROMETHEUS_IMAGE,
        sites=t.SITES,  # the observer: scrapes every site
        publish=[t.PROMETHEUS_PORT],
        probe=probes.http(t.PROMETHEUS_PORT, "/-/ready"),
        files={"/etc/prometheus/prometheus.yml": prometheus_config(config)},
        host_gateway=True,
        # The observer starts with the entries: its 1 s scrapes of a stack that is still
        # starting would take CPU from the start (about 0.14 cores once all answer).
        start_last=True,
    )


def stack_spec(config: StackConfig) -> list[ContainerSpec]:
    """Every container of the stack, in the order they are started: what the shards' start
    waits for first (etcd, and Toxiproxy, the only way to it and between the sites), then
    each shard's leader before the standbys (a standby waits for its leader's lock), then
    the rest. `up` keeps both cores busy, so the start's critical path goes first."""
    tiers = [spec for region in t.REGIONS for spec in _data_tier(config, region)]
    leaders = {t.shard_node(s, config.primary_region(s)) for s in range(t.SHARD_COUNT)}
    nodes = {t.shard_node(s, region) for s in range(t.SHARD_COUNT) for region in t.REGIONS}

    def start_rank(spec: ContainerSpec) -> int:  # leaders, standbys, then the queues
        return 0 if spec.instance in leaders else 1 if spec.instance in nodes else 2

    specs = [_witness(), _toxiproxy(), *sorted(tiers, key=start_rank)]  # sorted() is stable
    for region in t.REGIONS:
        specs += _web(config, region) + _workers(config, region)
    specs += [_prometheus(config)]
    specs += [_entry(region) for region in t.REGIONS]
    specs.append(_dns(config))
    return specs


def services(config: StackConfig) -> list[str]:
    """Service names (groups of instances), in start order, without duplicates."""
    return list(dict.fromkeys(spec.service for spec in stack_spec(config)))
