"""The real stack: up, traffic through both regions, a job done, scrapes and proxies, down."""

from __future__ import annotations

import json
import time

import docker
import requests

from harness.stack import topology as t
from harness.stack.endpoints import Endpoints
from harness.stack.smoke import check_region, check_regions_identical
from tests.integration.helpers import harness_cli, labelled


def test_endpoints_are_on_loopback(stack: Endpoints) -> None:
    nodes = [url for shard in stack.shards for url in shard]
    patroni = [url for shard in stack.patroni for url in shard]
    queues = list(stack.queues.values())
    for url in (stack.router, stack.prometheus, stack.toxiproxy, *queues, *nodes, *patroni):
        assert "127.0.0.1:" in url


def test_each_region_serves_its_own_users_and_does_the_photo_job(stack: Endpoints) -> None:
    for region in t.REGIONS:
        result = check_region(stack.router, region)
        assert result.served_by == region
        assert t.shard_of(result.user_id) == result.user_id % 4


def test_both_regions_run_the_same_images_and_configuration(
    stack: Endpoints, docker_client: docker.DockerClient, stack_name: str
) -> None:
    # the session's stack: one web replica and two workers a region, a queue, four shard nodes
    assert check_regions_identical(docker_client, stack_name) == (
        "regions identical: 8 pairs of containers, same images and configuration"
    )


def test_user_created_in_one_region_is_readable_from_the_other(stack: Endpoints) -> None:
    created = requests.post(
        f"{stack.router}/users",
        json={"name": "traveller"},
        headers={"X-Home-Region": "us-east"},
        timeout=5,
    )
    assert created.status_code == 201
    user_id = created.json()["id"]
    read = requests.get(
        f"{stack.router}/users/{user_id}", headers={"X-Home-Region": "us-west"}, timeout=5
    )
    assert read.status_code == 200
    assert read.headers["X-Served-Region"] == "us-west"
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
    assert jobs == {"geo-router", "web", "worker", "queue", "shard", "toxiproxy", "prometheus"}
    # router, web per region, 2 workers per region, queue per region, 4 shards x 2 regions,
    # toxiproxy, prometheus
    assert len(static) == 1 + 2 + 4 + 2 + 8 + 1 + 1


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
    assert {"geo-router", "prometheus", "toxiproxy", "queue-us-east", "web-us-east-1"} <= names
    assert {"witness", "shard-0-us-east", "shard-0-us-west"} <= names
    assert report["endpoints"]["router"] == stack.router


def test_up_again_reuses_the_healthy_stack(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    before = labelled(docker_client, stack_name)
    done = harness_cli("up", "--stack", stack_name)
    assert done.returncode == 0, done.stderr
    assert "already up" in done.stderr
    assert labelled(docker_client, stack_name) == before
