"""The real stack: up, traffic through both regions, a job done, scrapes and proxies, down."""

from __future__ import annotations

import ipaddress
import json
import time
from urllib.parse import urlsplit

import docker
import requests

from harness.stack import topology as t
from harness.stack.endpoints import Endpoints
from harness.stack.smoke import check_region, check_regions_identical, region_url
from harness.vocabulary import HOME_HEADER, SERVED_HEADER, entry_service
from tests.integration.helpers import harness_cli, labelled


def test_endpoints_are_on_loopback(stack: Endpoints) -> None:
    nodes = [url for shard in stack.shards for url in shard]
    patroni = [url for shard in stack.patroni for url in shard]
    queues = list(stack.queues.values())
    for url in (stack.prometheus, stack.toxiproxy, *queues, *nodes, *patroni):
        assert "127.0.0.1:" in url
    assert stack.dns.startswith("127.0.0.1:")
    # Each region's entry on a loopback address of its own, at the one entry port.
    assert sorted(stack.entries) == sorted(t.REGIONS)
    hosts = set()
    for url in stack.entries.values():
        parts = urlsplit(url)
        assert parts.hostname is not None and ipaddress.ip_address(parts.hostname).is_loopback
        assert parts.port == stack.entry_port
        hosts.add(parts.hostname)
    assert len(hosts) == len(t.REGIONS)


def test_each_region_serves_its_own_users_and_does_the_photo_job(stack: Endpoints) -> None:
    for region in t.REGIONS:
        url = region_url(stack, region)  # where the DNS server sends the region's users
        assert url == stack.entries[region]
        result = check_region(url, region)
        assert result.served_by == region
        assert t.shard_of(result.user_id) == result.user_id % 4


def test_both_regions_run_the_same_images_and_configuration(
    stack: Endpoints, docker_client: docker.DockerClient, stack_name: str
) -> None:
    # the session's stack: an entry, one web replica, two workers, a queue and four shard
    # nodes a region
    assert check_regions_identical(docker_client, stack_name) == (
        "regions identical: 9 pairs of containers, same images and configuration"
    )


def test_user_created_in_one_region_is_readable_from_the_other(stack: Endpoints) -> None:
    created = requests.post(
        f"{stack.entries['us-east']}/users",
        json={"name": "traveller"},
        headers={HOME_HEADER: "us-east"},
        timeout=5,
    )
    assert created.status_code == 201
    assert created.headers[SERVED_HEADER] == "us-east"
    user_id = created.json()["id"]
    read = requests.get(
        f"{stack.entries['us-west']}/users/{user_id}", headers={HOME_HEADER: "us-west"}, timeout=5
    )
    assert read.status_code == 200
    assert read.headers[SERVED_HEADER] == "us-west"
    assert read.json()["name"] == "traveller"


def test_prometheus_reports_every_scrape_target_up(stack: Endpoints) -> None:
    deadline = time.monotonic() + 30
    while True:
        resp = requests.get(f"{stack.prometheus}/api/v1/targets", timeout=5).json()
        active = resp["data"]["activeTargets"]
        static = [tg for tg in active if tg["labels"]["job"] != "harness"]
        down = [tg["scrapeUrl"] for tg in static if tg["health"] != "up"]
        if static and not down:
            break
        assert time.monotonic() < deadline, f"targets not up after 30 s: {down}"
        time.sleep(1)
    jobs = {tg["labels"]["job"] for tg in static}
    assert jobs == {"entry", "dns", "web", "worker", "queue", "shard", "toxiproxy", "prometheus"}
    # an entry per region, the DNS server, web per region, 2 workers per region, queue per
    # region, 4 shards x 2 regions, toxiproxy, prometheus
    assert len(static) == 2 + 1 + 2 + 4 + 2 + 8 + 1 + 1
    entries = {(tg["labels"]["region"], tg["labels"]["service"])
               for tg in static if tg["labels"]["job"] == "entry"}  # fmt: skip
    assert entries == {(r, entry_service(r)) for r in t.REGIONS}


def test_toxiproxy_lists_every_link(stack: Endpoints) -> None:
    proxies = requests.get(f"{stack.toxiproxy}/proxies", timeout=5).json()
    assert sorted(proxies) == sorted(t.LINK_NAMES)
    assert all(p["enabled"] for p in proxies.values())


def test_status_json_shows_every_service_healthy(stack: Endpoints, stack_name: str) -> None:
    done = harness_cli("status", "--stack", stack_name, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["healthy"] is True
    names = {s["name"] for s in report["services"]}
    assert {"dns", "prometheus", "toxiproxy", "queue-us-east", "web-us-east-1"} <= names
    assert {"entry-us-east", "entry-us-west"} <= names
    assert {"witness", "shard-0-us-east", "shard-0-us-west"} <= names
    endpoints = report["endpoints"]
    assert endpoints["entries"] == stack.entries
    assert endpoints["entry_port"] == stack.entry_port
    assert endpoints["dns"] == stack.dns
    assert "router" not in endpoints


def test_up_again_reuses_the_healthy_stack(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    before = labelled(docker_client, stack_name)
    done = harness_cli("up", "--stack", stack_name)
    assert done.returncode == 0, done.stderr
    assert "already up" in done.stderr
    assert labelled(docker_client, stack_name) == before
