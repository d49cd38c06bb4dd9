"""Each named fault on the real stack: its effect is seen while active and gone after removal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import docker
import pytest
import redis
import requests
from pydantic import TypeAdapter

import harness.faults  # noqa: F401  (registers every kind)
from harness.faults.containers import DockerContainers
from harness.faults.runtime import FaultContext, inject
from harness.faults.spec import FaultSpec, fault_union
from harness.faults.toxiproxy_client import stack_links
from harness.invariants.queue import QueueReader, RegionQueues
from harness.stack.endpoints import Endpoints
from harness.stack.smoke import region_url
from harness.stack.status import wait_until_healthy
from harness.stack.topology import QUEUE_GROUP, QUEUE_STREAM
from harness.vocabulary import HOME_HEADER, edge_link_name, entry_service
from tests.integration.helpers import dns_sends, served_via_dns, wait_for

FAULT = TypeAdapter(fault_union())
# The DNS server checks each entry through its edge link every dns_check_interval_s (2 s), each
# check given 1 s (dns_zone.CHECK_TIMEOUT_S), and one failed check takes the entry out of the
# answers; the rest is a margin for a busy machine. Users of a real resolver also wait for
# their cached answer to expire (the TTL): these reads ask the DNS server each time.
FAILOVER_S = 10.0


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
    wait_until_healthy(docker_client, stack_name, timeout_s=120)  # leave it as we found it


_PROBE_USERS: dict[str, int] = {}


def served_region(stack: Endpoints, home: str) -> str | None:
    """Which region serves one of `home`'s users reading a user, sent where the DNS server
    sends `home`'s users now (None: no answer, or no 200). A read, not a write: while a region
    is out, writes to the shards whose primaries it had wait for their failover (seconds more),
    and every region has a copy of every user to read."""
    try:
        if stack.dns not in _PROBE_USERS:  # made once, while the stack is whole
            made = requests.post(
                f"{stack.entries['us-east']}/users", json={"name": "probe"}, timeout=5
            )
            _PROBE_USERS[stack.dns] = int(made.json()["id"])
            time.sleep(0.5)  # on both copies (synchronous), replayed
    except (requests.RequestException, ValueError, KeyError):
        return None
    return served_via_dns(stack, home, f"/users/{_PROBE_USERS[stack.dns]}") or None


@pytest.mark.parametrize("mode", ["network", "stop"])
def test_region_outage_moves_users_to_the_other_region_and_back(
    stack: Endpoints, ctx: FaultContext, mode: str
) -> None:
    assert dns_sends(stack, "us-east") == "us-east"
    assert served_region(stack, "us-east") == "us-east"
    with inject(spec(type="region_outage", region="us-east", mode=mode), ctx):
        took = wait_for(
            lambda: served_region(stack, "us-east") == "us-west", FAILOVER_S, "failover"
        )
        # The DNS server answers us-east's users with us-west's entry now (asked directly)...
        assert region_url(stack, "us-east") == stack.entries["us-west"]
        # ...because us-east's entry is out of reach, as what the fault cut says itself:
        # Toxiproxy's API (the link the DNS server checks through) or Docker (the container).
        if mode == "network":
            edge = requests.get(f"{stack.toxiproxy}/proxies/{edge_link_name('us-east')}", timeout=5)
            assert edge.json()["enabled"] is False
        else:
            (entry,) = ctx.containers.instances(entry_service("us-east"))
            assert entry.status == "exited"
        # once failed over, us-east users keep being served (by us-west), and us-west's stay
        assert all(served_region(stack, "us-east") == "us-west" for _ in range(10))
        assert dns_sends(stack, "us-west") == "us-west"
    print(f"failover of us-east users to us-west took {took:.1f} s ({mode})")
    wait_for(lambda: served_region(stack, "us-east") == "us-east", 60, "failback")
    assert dns_sends(stack, "us-east") == "us-east"


def live_workers(prometheus: str) -> float:
    resp = requests.get(
        f"{prometheus}/api/v1/query", params={"query": 'sum(up{job="worker"})'}, timeout=5
    ).json()
    return float(resp["data"]["result"][0]["value"][1])


def submit_jobs(stack: Endpoints, count: int, region: str = "us-east") -> list[str]:
    """Photo jobs of a new `region` user, sent to `region`'s entry (where the DNS server sends
    its users on a whole stack): its web tier queues them on `region`'s queue."""
    entry, home = stack.entries[region], {HOME_HEADER: region}
    user = requests.post(
        f"{entry}/users", json={"name": "photographer"}, headers=home, timeout=5
    ).json()["id"]
    return [
        requests.post(
            f"{entry}/users/{user}/photos", json={"op": "sharpen"}, headers=home, timeout=5
        ).json()["job_id"]
        for _ in range(count)
    ]


def job_status(stack: Endpoints, job_id: str) -> dict[str, Any]:
    url = f"{stack.entries['us-east']}/jobs/{job_id}"
    return requests.get(url, timeout=5).json()  # type: ignore[no-any-return]


def test_consumer_death_stops_all_work_and_the_backlog_drains_after(
    stack: Endpoints, ctx: FaultContext
) -> None:
    queue = QueueReader(stack.queues["us-east"])  # submit_jobs sends us-east users' jobs
    # No job is in flight here, so a mid-job kill would not bite (FaultDidNotBite): kill at once.
    with inject(spec(type="consumer_death", mid_job=False), ctx):
        wait_for(lambda: live_workers(stack.prometheus) == 0, 10, "workers reported down")
        before = queue.stats().lag
        jobs = submit_jobs(stack, 20)
        assert queue.stats().lag >= before + 20  # nobody consumes: the backlog grows
        time.sleep(1)
        assert all(job_status(stack, j)["status"] == "queued" for j in jobs)
    wait_for(lambda: queue.stats().lag == 0, 60, "backlog drained")
    wait_for(lambda: all(job_status(stack, j)["status"] == "done" for j in jobs), 60, "jobs done")
    wait_for(lambda: live_workers(stack.prometheus) == 4, 15, "workers reported up again")


def held_by(queue_url: str, prefix: str) -> list[str]:
    """Job ids pending (delivered, not acknowledged) at consumers whose name starts with prefix."""
    r = redis.Redis.from_url(queue_url, socket_timeout=5)
    entries = r.xpending_range(QUEUE_STREAM, QUEUE_GROUP, min="-", max="+", count=1000)
    held = [e["message_id"] for e in entries if e["consumer"].decode().startswith(prefix)]
    jobs = []
    for message_id in held:
        (_, fields), *_ = r.xrange(QUEUE_STREAM, min=message_id, max=message_id)
        jobs.append(fields[b"job_id"].decode())
    return jobs


def test_jobs_held_by_a_killed_worker_are_taken_over_by_a_live_one(
    stack: Endpoints, ctx: FaultContext
) -> None:
    # Each region's workers consume their own region's queue. With worker-us-east-2 paused,
    # worker-us-east-1 takes every job; killed while it holds one, the job must be taken over
    # by worker-us-east-2 once it runs again (XAUTOCLAIM after RECLAIM_IDLE_MS).
    (second,) = ctx.containers.instances("worker-us-east-2")
    (first,) = ctx.containers.instances("worker-us-east-1")
    ctx.containers.pause(second)
    try:
        jobs = submit_jobs(stack, 20, region="us-east")
        wait_for(
            lambda: len(held_by(stack.queues["us-east"], "worker-us-east-1")) >= 1,
            30,
            "worker-us-east-1 holds a job",
        )
        ctx.containers.kill(first)
        orphaned = held_by(stack.queues["us-east"], "worker-us-east-1")
    finally:
        ctx.containers.unpause(second)
    wait_for(
        lambda: all(job_status(stack, j)["status"] == "done" for j in jobs),
        60,
        "every job done",
    )
    done_by = {j: job_status(stack, j)["worker"] for j in orphaned}
    assert orphaned
    assert all(w == "worker-us-east-2" for w in done_by.values()), done_by
    # Nothing left delivered and unacknowledged, in either region (a reclaim runs every
    # RECLAIM_IDLE_MS: what an earlier test's kill left is taken over by then).
    wait_for(lambda: RegionQueues(stack.queues).stats().pending == 0, 30, "nothing pending")
