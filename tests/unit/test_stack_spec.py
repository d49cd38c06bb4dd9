"""The stack description built from config: services, proxies, scrape targets."""

import json
import re
from pathlib import Path

import pytest

from harness.stack import dns_zone
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.dns_zone import dns_files, dns_settings
from harness.stack.patroni import patroni_yaml
from harness.stack.probes import Probe
from harness.stack.scrape import (
    ENTRY_SCOPES,
    UNJUDGED_INTERVAL,
    file_sd_target,
    prometheus_config,
)
from harness.stack.spec import ENTRY_IMAGE, ContainerSpec, services, stack_spec
from harness.stack.toxiproxy_config import toxiproxy_config
from harness.vocabulary import CLIENT_SUBNETS, ENTRY_ADDRESSES


def by_instance(config: StackConfig) -> dict[str, ContainerSpec]:
    return {spec.instance: spec for spec in stack_spec(config)}


def test_default_stack_has_every_service_once_in_start_order() -> None:
    names = services(StackConfig())
    assert names == [
        "witness", "toxiproxy",
        # each shard's leader (primaries spread over both regions), then the standbys
        "shard-0-us-east", "shard-2-us-east", "shard-1-us-west", "shard-3-us-west",
        "shard-1-us-east", "shard-3-us-east", "shard-0-us-west", "shard-2-us-west",
        "queue-us-east", "queue-us-west",
        "web-us-east", "worker-us-east", "web-us-west", "worker-us-west",
        "prometheus", "entry-us-east", "entry-us-west", "dns",
    ]  # fmt: skip


def test_leaders_start_before_standbys_when_one_region_holds_every_primary() -> None:
    config = StackConfig(primaries="us-west")
    order = [spec.instance for spec in stack_spec(config)]
    for s in range(t.SHARD_COUNT):
        leader = t.shard_node(s, config.primary_region(s))
        standby = t.shard_node(s, t.other_region(config.primary_region(s)))
        assert order.index("toxiproxy") < order.index(leader) < order.index(standby)
    last = [spec.instance for spec in stack_spec(config) if spec.start_last]
    assert last == ["prometheus", "entry-us-east", "entry-us-west", "dns"]


@pytest.mark.parametrize(("workers", "web"), [(1, 1), (2, 1), (3, 2)])
def test_replicas_follow_config(workers: int, web: int) -> None:
    specs = by_instance(StackConfig(workers_per_region=workers, web_replicas=web))
    for region in t.REGIONS:
        assert sum(s.service == f"worker-{region}" for s in specs.values()) == workers
        assert sum(s.service == f"web-{region}" for s in specs.values()) == web
    # the witness, per region a queue, a node of every shard and an entry, Toxiproxy,
    # Prometheus and the DNS server
    assert len(specs) == 1 + 2 * (1 + t.SHARD_COUNT + 1) + 3 + 2 * (workers + web)


def test_region_tiers_reach_data_only_through_their_own_proxies() -> None:
    specs = by_instance(StackConfig())
    for region in t.REGIONS:
        for name in (f"web-{region}-1", f"worker-{region}-1"):
            env = specs[name].env
            assert env["REGION"] == region
            assert env["QUEUE_ADDR"] == f"toxiproxy:{t.queue_link(region).listen_port}"
            ports = [int(a.split(":")[1]) for a in env["SHARD_ADDRS"].split(",")]
            assert ports == [t.shard_link(s, region).listen_port for s in range(t.SHARD_COUNT)]
            assert all(a.startswith("toxiproxy:") for a in env["SHARD_ADDRS"].split(","))


def test_writes_try_the_regions_own_copy_first_then_the_other_regions_over_the_wan() -> None:
    specs = by_instance(StackConfig())
    for region in t.REGIONS:
        other = t.other_region(region)
        for name in (f"web-{region}-1", f"worker-{region}-2"):
            groups = specs[name].env["SHARD_WRITE_ADDRS"].split(",")
            assert groups == [
                f"toxiproxy:{t.shard_link(s, region).listen_port}"
                f"|toxiproxy:{t.wan_pg_link(s, other).listen_port}"
                for s in range(t.SHARD_COUNT)
            ]
    # what the us-east web tries for shard 1: its own copy, then us-west's over the WAN
    upstream = {f"toxiproxy:{link.listen_port}": link.upstream for link in t.all_links()}
    choices = specs["web-us-east-1"].env["SHARD_WRITE_ADDRS"].split(",")[1].split("|")
    assert [upstream[a] for a in choices] == ["shard-1-us-east:5432", "shard-1-us-west:5432"]


@pytest.mark.parametrize(
    ("primaries", "leaders"),
    [
        ("spread", {0: "us-east", 1: "us-west", 2: "us-east", 3: "us-west"}),
        ("us-east", dict.fromkeys(range(4), "us-east")),
        ("us-west", dict.fromkeys(range(4), "us-west")),
    ],
)
def test_each_shards_primary_node_bootstraps_as_leader_and_its_peer_as_replica(
    primaries: str, leaders: dict[int, str]
) -> None:
    specs = by_instance(StackConfig(primaries=primaries))
    for shard, leader in leaders.items():
        for region in t.REGIONS:
            env = specs[f"shard-{shard}-{region}"].env
            assert env["BOOTSTRAP"] == ("leader" if region == leader else "replica")
            assert env["LEADER_KEY"] == f"/chaos/shard-{shard}/leader"
            # etcd only through the region's witness link (nothing crosses sites otherwise)
            assert env["ETCD_ADDR"] == f"toxiproxy:{t.witness_link(region).listen_port}"


def test_every_shard_node_gets_its_own_patroni_config() -> None:
    config = StackConfig(replication="async")
    specs = by_instance(config)
    for shard in range(t.SHARD_COUNT):
        for region in t.REGIONS:
            node = specs[t.shard_node(shard, region)]
            assert node.files == {"/etc/patroni.yml": patroni_yaml(config, shard, region)}
            assert json.loads(node.files["/etc/patroni.yml"])["name"] == node.instance
            assert node.publish == [t.SHARD_PORT, t.PATRONI_PORT]
            assert node.volume_path == "/var/lib/postgresql/data"


def test_each_container_lives_on_its_site_and_only_the_wan_and_observer_span_sites() -> None:
    specs = by_instance(StackConfig())
    for name, spec in specs.items():
        if name in ("toxiproxy", "prometheus"):
            assert sorted(spec.sites) == sorted(t.SITES), name
        elif name in ("witness", "dns"):
            # what must outlive either region: the consensus store and the directory of regions
            assert spec.sites == (t.WITNESS_SITE,), name
        else:
            region = next(r for r in t.REGIONS if name.endswith(r) or f"-{r}-" in name)
            assert spec.sites == (region,), name
    assert {specs[f"queue-{r}"].sites for r in t.REGIONS} == {("us-east",), ("us-west",)}
    assert specs["shard-2-us-west"].sites == ("us-west",)
    # a region's entry lives (and dies) with the region it serves
    assert {r: specs[f"entry-{r}"].sites for r in t.REGIONS} == {r: (r,) for r in t.REGIONS}


def test_stale_reads_bug_maps_to_the_web_tiers_environment() -> None:
    assert by_instance(StackConfig())["web-us-east-1"].env["BUG_STALE_READS"] == "0"
    broken = by_instance(StackConfig(bugs=frozenset({"stale_reads"})))
    assert all(broken[f"web-{r}-1"].env["BUG_STALE_READS"] == "1" for r in t.REGIONS)


def test_each_entry_serves_its_own_regions_web_tier_behind_its_edge_link() -> None:
    specs = by_instance(StackConfig(web_replicas=2))
    links = {link.name: link for link in t.all_links()}
    for region in t.REGIONS:
        entry = specs[f"entry-{region}"]
        assert entry.image == ENTRY_IMAGE  # one entry image for both regions
        assert entry.env == {
            "ENTRY_REGION": region,
            "WEB_ADDR": f"web-{region}:{t.WEB_PORT}",
        }
        # the web address is the alias every web replica of that region, and only those, has
        web_alias = entry.env["WEB_ADDR"].split(":")[0]
        holders = {n for n, spec in specs.items() if web_alias in spec.aliases}
        assert holders == {f"web-{region}-1", f"web-{region}-2"}
        assert all(specs[n].sites == entry.sites for n in holders)
        # users come in through the region's edge link, whose upstream is this entry
        edge = links[f"edge-{region}"]
        assert (edge.kind, edge.region) == ("edge", region)
        assert edge.upstream == f"entry-{region}:{t.ENTRY_PORT}"
        assert entry.start_last  # once the web tier answers
        assert entry.probe.port in entry.publish and t.ENTRY_PORT not in entry.publish


def _dns_files(config: StackConfig) -> dict[str, str]:
    return by_instance(config)["dns"].files


def test_the_dns_container_gets_the_zone_files_of_the_stacks_settings() -> None:
    config = StackConfig(dns_ttl_s=30, dns_check_interval_s=5)
    dns = by_instance(config)["dns"]
    assert dns.files == dns_files(dns_settings(ttl_s=30, check_interval_s=5))
    zone = dns.files[dns_zone.ZONE_FILE]
    assert "app 30 IN LUA A" in zone
    assert "lua-health-checks-interval=5" in dns.files[dns_zone.PDNS_CONF_FILE].splitlines()
    # every region's entry is answered, and checked through its own edge link on Toxiproxy
    for region in t.REGIONS:
        assert f"'{ENTRY_ADDRESSES[region]}'" in zone
        assert f"http://toxiproxy:{t.edge_link(region).listen_port}/healthz" in zone
    # a user of each region falls back to the other region's entry when its own is down
    assert "ifurlextup({g[1],g[2]},o)" in zone and "ifurlextup({g[2],g[1]},o)" in zone
    assert dns.start_last and dns.publish_udp == [t.DNS_PORT]
    assert dns.publish == [t.DNS_METRICS_PORT]


def test_failover_off_makes_the_dns_answer_only_the_home_regions_entry() -> None:
    broken = _dns_files(StackConfig(bugs=frozenset({"failover_off"})))
    assert broken == dns_files(dns_settings(failover=False))
    zone = broken[dns_zone.ZONE_FILE]
    # still checked, but each region's users are offered their home group alone
    assert "ifurlextup({g[1]},o)" in zone and "ifurlextup({g[2]},o)" in zone
    assert "g[1],g[2]" not in zone and "g[2],g[1]" not in zone
    assert broken != _dns_files(StackConfig())


def test_dns_static_makes_the_dns_answer_by_subnet_without_any_check() -> None:
    broken = _dns_files(StackConfig(bugs=frozenset({"dns_static"})))
    assert broken == dns_files(dns_settings(static=True))
    zone = broken[dns_zone.ZONE_FILE]
    assert "ifurlextup" not in zone and "/healthz" not in zone
    for region in t.REGIONS:
        subnet = CLIENT_SUBNETS[region]
        address = ENTRY_ADDRESSES[region]
        assert f"if netmask({{'{subnet}'}}) then return '{address}' end" in zone
    # the other bugs leave the DNS server alone
    others = frozenset({"stale_reads", "sticky_primary"})
    assert _dns_files(StackConfig(bugs=others)) == _dns_files(StackConfig())


def test_worker_bugs_map_to_environment() -> None:
    worker = by_instance(StackConfig(bugs=frozenset({"ack_before_persist"})))["worker-us-west-2"]
    assert worker.env["BUG_ACK_BEFORE_PERSIST"] == "1"
    assert worker.env["BUG_NO_RECLAIM"] == "0"
    assert worker.env["WORKER_NAME"] == "worker-us-west-2"


def test_unknown_bug_is_rejected() -> None:
    with pytest.raises(ValueError, match="valid"):
        StackConfig(bugs=frozenset({"typo"}))


def test_every_link_is_a_toxiproxy_proxy_with_a_unique_port() -> None:
    proxies = json.loads(toxiproxy_config())
    names = [p["name"] for p in proxies]
    assert names == list(t.LINK_NAMES)
    # inside each region: edge, queue, a link per shard; between them: PostgreSQL and
    # Patroni's API into every shard node; a witness link per region
    assert len(names) == 2 * (2 + t.SHARD_COUNT) + 2 * 2 * t.SHARD_COUNT + 2
    assert {"edge-us-east", "queue-us-west", "shard0-us-east", "shard3-us-west"} <= set(names)
    assert {"wan-shard0-us-east", "wan-api3-us-west", "witness-us-east"} <= set(names)
    assert len(set(names)) == len(names)
    assert len({p["listen"] for p in proxies}) == len(proxies)
    assert all(p["enabled"] for p in proxies)
    upstream = {p["name"]: p["upstream"] for p in proxies}
    assert upstream["edge-us-west"] == "entry-us-west:8080"
    assert upstream["edge-us-east"] == "entry-us-east:8080"
    assert upstream["queue-us-west"] == "queue-us-west:6379"
    assert upstream["shard1-us-east"] == "shard-1-us-east:5432"
    assert upstream["wan-shard1-us-east"] == "shard-1-us-east:5432"
    assert upstream["wan-api1-us-east"] == "shard-1-us-east:8008"
    assert upstream["witness-us-west"] == "witness:2379"


def test_only_loopback_ports_are_published_for_the_entry_points() -> None:
    specs = by_instance(StackConfig())
    published = {name for name, spec in specs.items() if spec.publish}
    assert {"entry-us-east", "entry-us-west", "dns", "prometheus", "toxiproxy"} <= published
    assert {"witness", "queue-us-east", "queue-us-west", "shard-0-us-east"} <= published
    assert "shard-3-us-west" in published
    # web replicas publish only their API port, for the harness's readiness probe (users reach
    # them through their region's entry); workers only their metrics port, which
    # consumer_death polls; an entry only its stats and metrics port (users reach its front
    # end through its edge link)
    assert all(specs[n].publish == [t.WEB_PORT] for n in published if n.startswith("web-"))
    assert all(specs[n].publish == [t.WORKER_METRICS_PORT] for n in published if "worker" in n)
    assert all(
        specs[n].publish == [t.ENTRY_METRICS_PORT] for n in published if n.startswith("entry-")
    )
    # Only the DNS server publishes UDP; only Toxiproxy publishes on addresses of their own:
    # each region's edge on that region's entry address
    assert {n for n, spec in specs.items() if spec.publish_udp} == {"dns"}
    assert {n: spec.publish_on for n, spec in specs.items() if spec.publish_on} == {
        "toxiproxy": {t.edge_link(r).listen_port: ENTRY_ADDRESSES[r] for r in t.REGIONS}
    }


def test_every_container_is_probed_by_the_harness_through_a_published_port() -> None:
    for spec in stack_spec(StackConfig()):
        assert spec.probe.port in spec.publish, spec.instance
        assert Probe.from_label(spec.probe.label()) == spec.probe


def test_prometheus_scrapes_every_service() -> None:
    config = StackConfig(workers_per_region=3)
    doc = json.loads(prometheus_config(config))
    assert doc["global"]["scrape_interval"] == "1s"
    targets = {
        target
        for job in doc["scrape_configs"]
        for sc in job.get("static_configs", [])
        for target in sc["targets"]
    }
    for spec in stack_spec(config):
        if spec.service.startswith(("web-", "worker-", "shard-", "queue-", "entry-")) or (
            spec.instance in ("dns", "toxiproxy")
        ):
            assert any(tg.startswith(f"{spec.instance}:") for tg in targets), spec.instance
    jobs = {job["job_name"]: job for job in doc["scrape_configs"]}
    entry_targets = {
        tg: sc["labels"] for sc in jobs["entry"]["static_configs"] for tg in sc["targets"]
    }
    assert entry_targets == {
        f"entry-{r}:{t.ENTRY_METRICS_PORT}": {"region": r, "service": f"entry-{r}"}
        for r in t.REGIONS
    }
    assert [tg for sc in jobs["dns"]["static_configs"] for tg in sc["targets"]] == [
        f"dns:{t.DNS_METRICS_PORT}"
    ]
    assert any("file_sd_configs" in job for job in doc["scrape_configs"])


HARNESS = Path(__file__).resolve().parents[2] / "harness"


def _read_by_the_harness() -> str:
    """The harness's own code: every query the judge, the charts and the invariants send."""
    return "\n".join(path.read_text() for path in sorted(HARNESS.rglob("*.py")))


def test_only_jobs_nothing_judges_are_scraped_less_often_than_each_second() -> None:
    doc = json.loads(prometheus_config(StackConfig()))
    slow = {
        job["job_name"]: job["scrape_interval"]
        for job in doc["scrape_configs"]
        if "scrape_interval" in job
    }
    assert slow == {job: UNJUDGED_INTERVAL for job in ("dns", "queue", "toxiproxy", "prometheus")}
    # ... and no series of theirs is read by the harness (their metric names' prefixes)
    code = _read_by_the_harness()
    for pattern in (
        r"\bredis_[a-z]+_",
        r"\bpdns_auth_",
        r"\btoxiproxy_(proxy|toxic)",
        r"\bprometheus_(tsdb|http|engine|sd|target|rule)",
    ):
        assert not re.search(pattern, code), pattern


def test_the_entries_are_scraped_for_the_sections_the_harness_reads() -> None:
    doc = json.loads(prometheus_config(StackConfig()))
    entry = next(job for job in doc["scrape_configs"] if job["job_name"] == "entry")
    assert entry["params"] == {"scope": ENTRY_SCOPES}
    sections = set(re.findall(r"\bhaproxy_([a-z]+)_[a-z_]+", _read_by_the_harness()))
    assert sections and sections <= set(ENTRY_SCOPES)


def test_file_sd_target_names_its_source() -> None:
    doc = json.loads(file_sd_target("loadgen", "172.18.0.1:9646"))
    assert doc == [{"targets": ["172.18.0.1:9646"], "labels": {"source": "loadgen"}}]


def test_every_shard_node_and_queue_is_scraped_with_its_region() -> None:
    doc = json.loads(prometheus_config(StackConfig()))
    jobs = {job["job_name"]: job for job in doc["scrape_configs"]}
    shard_targets = {
        target: sc["labels"] for sc in jobs["shard"]["static_configs"] for target in sc["targets"]
    }
    for shard in range(t.SHARD_COUNT):
        for region in t.REGIONS:
            node = t.shard_node(shard, region)
            labels = shard_targets[f"{node}:{t.SHARD_EXPORTER_PORT}"]
            assert labels == {"shard": str(shard), "region": region, "service": node}
    queue_labels = [sc["labels"] for sc in jobs["queue"]["static_configs"]]
    assert {(lb["region"], lb["service"]) for lb in queue_labels} == {
        (r, f"queue-{r}") for r in t.REGIONS
    }
