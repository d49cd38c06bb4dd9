"""The geo DNS on the real stack: each region's users are answered with their own region's
entry, for the stack's TTL; a region's entry going down sends its users to the other region
within a check interval, and back once it is up again; Prometheus scrapes the DNS server.

Each claim has an observer of its own: the DNS server asked directly with each region's client
subnet (no cache in between), the web tier's X-Served-Region behind the answered entry, Docker
and Toxiproxy's API for what was cut, Prometheus for the scrape.
"""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest
import requests

from harness.faults.containers import DockerContainers
from harness.faults.toxiproxy_client import stack_links
from harness.stack import topology as t
from harness.stack.endpoints import Endpoints
from harness.stack.smoke import region_url
from harness.stack.status import wait_until_healthy
from harness.vocabulary import ENTRY_ADDRESSES, edge_link_name, entry_service
from tests.integration.helpers import (
    dns_answer,
    dns_sends,
    running_config,
    served_by,
    served_via_dns,
    wait_for,
)

# What the DNS server needs to see an entry go or come back, beyond its check interval: the
# check's own time (1 s at most, dns_zone.CHECK_TIMEOUT_S) and a margin.
CHECK_MARGIN_S = 2


@pytest.fixture
def containers(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> Iterator[DockerContainers]:
    """The stack's containers; afterwards, whatever a test stopped or cut is back, and each
    region's users are sent home again."""
    found = DockerContainers(docker_client, stack_name)
    try:
        yield found
    finally:
        stack_links(stack).reset()
        found.heal_all()
        wait_until_healthy(docker_client, stack_name, timeout_s=120)


def prometheus_value(prometheus: str, query: str) -> float | None:
    resp = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5)
    resp.raise_for_status()
    result = resp.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_each_regions_users_are_answered_with_their_own_entry_for_the_stacks_ttl(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> None:
    ttl_s = running_config(docker_client, stack_name).dns_ttl_s  # what the stack runs with
    answers = {region: dns_answer(stack, region) for region in t.REGIONS}
    assert {r: a.address for r, a in answers.items()} == ENTRY_ADDRESSES
    assert {r: a.ttl_s for r, a in answers.items()} == {r: ttl_s for r in t.REGIONS}
    for region, answer in answers.items():
        url = f"http://{answer.address}:{stack.entry_port}"
        assert url == stack.entries[region]
        assert served_by(url, region) == region  # the entry answered is the region's own


@pytest.mark.parametrize("cut", ["entry-stopped", "edge-disabled"])
def test_a_regions_entry_down_sends_its_users_to_the_other_region_and_back(
    stack: Endpoints,
    stack_name: str,
    docker_client: docker.DockerClient,
    containers: DockerContainers,
    cut: str,
) -> None:
    bound_s = running_config(docker_client, stack_name).dns_check_interval_s + CHECK_MARGIN_S
    links = stack_links(stack)
    edge = edge_link_name("us-east")
    (entry,) = containers.instances(entry_service("us-east"))
    assert [dns_sends(stack, r) for r in t.REGIONS] == list(t.REGIONS)

    if cut == "entry-stopped":
        containers.stop(entry)
    else:
        links.set_enabled(edge, False)
    try:
        gone_s = wait_for(
            lambda: dns_sends(stack, "us-east") == "us-west",
            bound_s,
            "the DNS server answering us-east's users with us-west's entry",
        )
        # What was cut, as Docker or Toxiproxy's own API says.
        if cut == "entry-stopped":
            entry.reload()
            assert entry.status == "exited"
        else:
            proxy = requests.get(f"{stack.toxiproxy}/proxies/{edge}", timeout=5).json()
            assert proxy["enabled"] is False
        assert region_url(stack, "us-east") == stack.entries["us-west"]
        assert served_via_dns(stack, "us-east") == "us-west"  # and served there
        assert dns_sends(stack, "us-west") == "us-west"  # us-west's users stay home
    finally:
        if cut == "entry-stopped":
            containers.start(entry)
        else:
            links.set_enabled(edge, True)
    # Once the entry passes what the DNS server checks (its /healthz through its edge link,
    # the way users reach it), the answer is us-east's own again within the same bound.
    wait_for(
        lambda: served_by(stack.entries["us-east"], "us-east") == "us-east",
        60,
        "us-east's entry answering through its edge link",
    )
    back_s = wait_for(
        lambda: dns_sends(stack, "us-east") == "us-east",
        bound_s,
        "the DNS server answering us-east's users with their own entry again",
    )
    assert served_via_dns(stack, "us-east") == "us-east"
    print(f"{cut}: us-east's users sent away after {gone_s:.1f} s, back after {back_s:.1f} s")


def test_prometheus_scrapes_the_dns_servers_own_metrics(stack: Endpoints) -> None:
    wait_for(
        lambda: prometheus_value(stack.prometheus, 'up{job="dns"}') == 1,
        30,
        "the dns job up",
    )
    # Its statistics, not only a reachable port: the UDP queries it counted rise with ours.
    queries = 'sum(pdns_auth_udp_queries{job="dns"})'
    wait_for(lambda: prometheus_value(stack.prometheus, queries) is not None, 15, queries)
    before = prometheus_value(stack.prometheus, queries)
    assert before is not None
    asked = 20
    for i in range(asked):
        dns_answer(stack, t.REGIONS[i % len(t.REGIONS)])
    wait_for(
        lambda: (prometheus_value(stack.prometheus, queries) or 0) >= before + asked,
        15,
        f"{asked} more UDP queries scraped",
    )
