"""What a fault records on the real stack: its first effect before the end of a multi-step apply,
and consumer_death's mid-job kills (landing inside a job under load; an error without jobs).

Written for the integration run (Docker); the unit tests in tests/unit/test_fault_effects.py
cover the same logic against fakes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import docker
import pytest
import requests
from pydantic import TypeAdapter

import harness.faults  # noqa: F401  (registers every kind)
from harness.errors import InfraError
from harness.faults.containers import DockerContainers
from harness.faults.effects import FaultEffects
from harness.faults.runtime import FaultContext, inject
from harness.faults.spec import fault_union
from harness.faults.toxiproxy_client import stack_links
from harness.invariants.queue import RegionQueues
from harness.plan import ScheduledFault
from harness.run.scheduler import FaultScheduler
from harness.stack.endpoints import Endpoints
from harness.stack.status import wait_until_healthy
from harness.vocabulary import HOME_HEADER

FAULT = TypeAdapter(fault_union())


def scheduled(**fields: Any) -> ScheduledFault:
    spec = FAULT.validate_python({"at": 0, "duration": 1, **fields})
    return ScheduledFault(index=0, spec=spec, start_s=0, end_s=1)


@pytest.fixture
def make(stack: Endpoints, stack_name: str, docker_client: docker.DockerClient) -> Iterator[Any]:
    tox = stack_links(stack)
    containers = DockerContainers(docker_client, stack_name)

    def build(fault: ScheduledFault, effects: FaultEffects) -> Any:
        ctx = FaultContext(
            links=tox, containers=containers, event=lambda k, m: None, label="it", effects=effects
        )
        return inject(fault.spec, ctx)

    yield build
    tox.reset()
    containers.heal_all()
    wait_until_healthy(docker_client, stack_name, timeout_s=120)  # leave it as we found it


@contextmanager
def photos_flowing(stack: Endpoints, region: str = "us-east") -> Iterator[None]:
    """Threads submitting photo jobs back to back through `region`'s entry, so every worker of
    `region` (its web tier queues them on its own queue) takes jobs all the time."""
    entry, home = stack.entries[region], {HOME_HEADER: region}
    user = requests.post(f"{entry}/users", json={"name": "it"}, headers=home, timeout=5).json()
    stop = threading.Event()

    def submit() -> None:
        while not stop.is_set():
            with suppress(requests.RequestException):  # an answer is not what is tested here
                requests.post(
                    f"{entry}/users/{user['id']}/photos",
                    json={"op": "blur"},
                    headers=home,
                    timeout=5,
                )

    threads = [threading.Thread(target=submit, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


def test_a_region_stop_records_its_first_effect_before_it_is_fully_applied(make: Any) -> None:
    scheduler = FaultScheduler(
        [scheduled(type="region_outage", region="us-east", mode="stop")], make
    )
    scheduler.tick(0)
    scheduler.tick(1)
    record = scheduler.records[0]
    assert record.first_effect_at is not None and record.applied_at is not None
    assert record.removal_started_at is not None and record.removed_at is not None
    # entry-us-east, web-us-east-1, both workers, ... are stopped one after the other, each a
    # docker stop.
    assert record.first_effect_at < record.applied_at <= record.removal_started_at
    assert record.removal_started_at < record.removed_at
    # the whole region: its entry, its web, its two workers, its queue and its copy of the four
    # shards
    regional = 1 + 1 + 2 + 1 + 4
    assert record.effects["container_stopped"] == record.effects["container_started"] == regional
    print(f"apply took {record.applied_at - record.first_effect_at:.2f} s after its first effect")


def test_mid_job_kills_under_load_land_inside_a_job(stack: Endpoints, make: Any) -> None:
    scheduler = FaultScheduler([scheduled(type="consumer_death", region="us-east")], make)
    with photos_flowing(stack):
        scheduler.tick(0)
        scheduler.tick(1)
    effects = scheduler.records[0].effects
    assert effects.get("killed_in_job", 0) >= 1, effects
    assert effects["container_killed"] == 2


def test_mid_job_kills_without_a_job_in_flight_end_in_an_error(stack: Endpoints, make: Any) -> None:
    queue = RegionQueues(stack.queues)
    deadline = time.monotonic() + 60
    while (stats := queue.stats()).lag or stats.pending:  # jobs left by an earlier test
        assert time.monotonic() < deadline, f"the queue did not drain: {stats.describe()}"
        time.sleep(0.5)
    scheduler = FaultScheduler([scheduled(type="consumer_death", region="us-east")], make)
    with pytest.raises(InfraError, match="none inside a job: the fault did not bite"):
        scheduler.tick(0)
    record = scheduler.records[0]
    assert record.status == "failed" and record.effects["killed_idle"] == 2
    assert record.effects["container_started"] == 2  # restarted on the way out
