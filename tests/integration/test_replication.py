"""The two data centres on the real stack: every shard replicated between the regions over
the WAN, and a region's loss promoting the other region's copies, then its rejoin.

Each claim is checked by an observer of its own: the shard nodes read directly, Toxiproxy's
API, Prometheus's scrape of the nodes' exporters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import docker
import psycopg
import pytest
import requests
from pydantic import TypeAdapter

import harness.faults  # noqa: F401  (registers every kind)
from harness.faults.containers import DockerContainers
from harness.faults.runtime import FaultContext, inject
from harness.faults.spec import FaultSpec, fault_union
from harness.faults.toxiproxy_client import stack_links
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.endpoints import Endpoints
from harness.stack.replication import restore_placement, shard_states, wait_replicated
from harness.stack.status import wait_until_healthy
from harness.stack.wan import WAN_TOXIC_PREFIX, wan_links
from harness.vocabulary import HOME_HEADER, SERVED_HEADER, region_of_node
from tests.integration.helpers import wait_for

FAULT = TypeAdapter(fault_union())


def spec(**fields: Any) -> FaultSpec:
    return FAULT.validate_python({"at": 0, "duration": 1, **fields})  # type: ignore[no-any-return]


@pytest.fixture
def ctx(
    stack: Endpoints, stack_name: str, docker_client: docker.DockerClient
) -> Iterator[FaultContext]:
    tox = stack_links(stack)
    containers = DockerContainers(docker_client, stack_name)
    yield FaultContext(links=tox, containers=containers, event=lambda k, m: None, label="it")
    tox.reset()
    containers.heal_all()
    wait_until_healthy(docker_client, stack_name, timeout_s=120)
    restore_placement(stack, StackConfig(name=stack_name), timeout_s=120, progress=print)


def primaries(stack: Endpoints) -> dict[int, str]:
    return {
        shard: next((s.node for s in states if s.role == "primary"), "none")
        for shard, states in shard_states(stack).items()
    }


def read_user(url: str, user_id: int) -> tuple[Any, ...] | None:
    with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
        return conn.execute("SELECT id, name FROM users WHERE id = %s", (user_id,)).fetchone()


def test_a_write_is_on_both_regions_copies_and_names_its_committing_node(
    stack: Endpoints,
) -> None:
    answer = requests.post(
        f"{stack.entries['us-east']}/users",
        json={"name": "replicated", "shard": 1},  # shard 1's primary is in us-west
        headers={HOME_HEADER: "us-east"},
        timeout=10,
    )
    assert answer.status_code == 201
    user_id = answer.json()["id"]
    assert answer.headers["X-Committed-By"] == "shard-1-us-west"
    assert int(answer.headers["X-Commit-Timeline"]) >= 1
    assert abs(float(answer.headers["X-Commit-Time"]) - time.time()) < 30
    # Synchronous replication: acknowledged means flushed on the standby; replayed a moment
    # later. Both copies, read directly, have it.
    for url in stack.shards[1]:
        wait_for(lambda u=url: read_user(u, user_id) is not None, 5, f"user on {url}")
        assert read_user(url, user_id) == (user_id, "replicated")


def test_the_wan_carries_its_latency_and_a_remote_write_pays_the_round_trips(
    stack: Endpoints,
) -> None:
    # Toxiproxy itself says the baseline is on every link between sites, both ways.
    for link in wan_links():
        toxics = requests.get(f"{stack.toxiproxy}/proxies/{link.name}/toxics", timeout=5).json()
        ours = {x["stream"]: x["attributes"]["latency"] for x in toxics
                if x["name"].startswith(WAN_TOXIC_PREFIX)}  # fmt: skip
        assert ours == {"upstream": stack.wan_latency_ms, "downstream": stack.wan_latency_ms}
    # A us-east user writing to shard 1 (primary in us-west, its standby in us-east): the
    # query crosses the WAN and the commit waits for the standby across it again.
    started = time.perf_counter()
    answer = requests.post(
        f"{stack.entries['us-east']}/users",
        json={"name": "far", "shard": 1},
        headers={HOME_HEADER: "us-east"},
        timeout=10,
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert answer.status_code == 201
    assert answer.headers[SERVED_HEADER] == "us-east"  # the write left from us-east
    assert elapsed_ms >= 4 * stack.wan_latency_ms  # two round trips at least


def test_prometheus_sees_every_shard_replicated_with_its_lag(stack: Endpoints) -> None:
    def series(query: str) -> list[dict[str, Any]]:
        data = requests.get(f"{stack.prometheus}/api/v1/query", params={"query": query}, timeout=5)
        return data.json()["data"]["result"]  # type: ignore[no-any-return]

    wait_for(lambda: len(series("pg_replica_replay_lag_seconds")) == t.SHARD_COUNT, 30, "lag")
    lag = series("pg_replica_replay_lag_seconds")
    assert sorted(int(s["metric"]["shard"]) for s in lag) == list(range(t.SHARD_COUNT))
    assert all(float(s["value"][1]) < 5 for s in lag)
    synchronous = series("pg_replica_synchronous == 1")
    assert len(synchronous) == t.SHARD_COUNT  # the default: synchronous replication
    standby = {s["metric"]["service"]: s["value"][1] for s in series("pg_node_standby")}
    assert sorted(standby.values()) == ["0"] * t.SHARD_COUNT + ["1"] * t.SHARD_COUNT


@pytest.mark.parametrize("mode", ["network", "stop"])
def test_a_region_outage_promotes_the_other_regions_copies_and_the_region_rejoins(
    stack: Endpoints, stack_name: str, ctx: FaultContext, mode: str
) -> None:
    # From the stack's placement (an earlier test's failover may have moved primaries), and
    # with every standby the synchronous one in Patroni's own record: it promotes only those.
    restore_placement(stack, StackConfig(name=stack_name), timeout_s=120, progress=print)
    before = primaries(stack)
    assert {region_of_node(p) for p in before.values()} == set(t.REGIONS)  # spread
    with inject(spec(type="region_outage", region="us-east", mode=mode), ctx):
        # us-east's primaries: fenced (network) or gone (stop); us-west promotes its copies
        # once their locks run out (Patroni's ttl, 12 s).
        wait_for(
            lambda: all(p.endswith("-us-west") for p in primaries(stack).values()),
            60,
            "every shard's primary in us-west",
        )
        # us-west takes writes for every shard meanwhile. A web process's first write after
        # the failover may still go to the old primary (its pool is dropped on that error and
        # the next write finds the new one), so a few tries are allowed.
        for shard in range(t.SHARD_COUNT):
            answers: list[requests.Response] = []

            def written(s: int = shard, found: list[requests.Response] = answers) -> bool:
                found.append(
                    requests.post(
                        f"{stack.entries['us-west']}/users",
                        json={"name": "survivor", "shard": s},
                        headers={HOME_HEADER: "us-west"},
                        timeout=10,
                    )
                )
                return found[-1].status_code == 201

            wait_for(written, 45, f"a write to shard {shard} in us-west")
            assert answers[-1].headers["X-Committed-By"] == f"shard-{shard}-us-west"
    # Back: every us-east node rejoins as a standby of its shard's us-west primary.
    replicated = wait_replicated(stack, timeout_s=120, progress=print)
    assert all(p.endswith("-us-west") for p in replicated.values())
    for shard, states in shard_states(stack).items():
        east = next(s for s in states if s.node == f"shard-{shard}-us-east")
        assert east.role == "standby", (shard, east)
