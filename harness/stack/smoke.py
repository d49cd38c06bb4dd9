"""A quick end-to-end check of a running stack as its users reach it, and of its regions.

For each region: find the service as a user of that region does (the stack's DNS server,
with the region's client subnet), create a user there, read it back, and check that the home
region answered; then submit a photo job and wait until a worker has done it. Used by
`harness check` and the integration tests; traffic goes only to loopback addresses.

`check_regions_identical` reads every container through the Docker SDK and compares both
regions (harness/stack/parity.py): `harness check` fails on any difference.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import docker
import requests
from docker.models.containers import Container

from harness.errors import InfraError
from harness.stack import labels
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.dns_query import ResolveError, service_query
from harness.stack.endpoints import Endpoints
from harness.stack.lifecycle import CONFIG, stack_containers
from harness.stack.parity import Deployed, Parity, compare
from harness.stack.spec import stack_spec
from harness.vocabulary import HOME_HEADER, SERVED_HEADER

TIMEOUT_S = 5.0


@dataclass(frozen=True, kw_only=True)
class SmokeResult:
    region: str
    user_id: int
    served_by: str
    job_id: str
    job_seconds: float


def _call(
    session: requests.Session,
    method: str,
    url: str,
    region: str,
    expect: int,
    json: object | None = None,
) -> requests.Response:
    try:
        resp = session.request(
            method, url, headers={HOME_HEADER: region}, timeout=TIMEOUT_S, json=json
        )
    except requests.RequestException as exc:
        raise InfraError(f"{method} {url} as a {region} user failed: {exc}") from exc
    if resp.status_code != expect:
        raise InfraError(
            f"{method} {url} as a {region} user answered {resp.status_code}, expected {expect}",
            detail=f"    {resp.text[:300]}",
        )
    return resp


def check_region(
    url: str,
    region: str,
    *,
    job_timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> SmokeResult:
    with requests.Session() as s:
        created = _call(s, "POST", f"{url}/users", region, 201, json={"name": f"smoke-{region}"})
        user_id = int(created.json()["id"])
        read = _call(s, "GET", f"{url}/users/{user_id}", region, 200)
        served = read.headers.get(SERVED_HEADER, "")
        if read.json().get("id") != user_id:
            raise InfraError(f"GET /users/{user_id} returned another user: {read.text[:200]}")
        if t.shard_of(user_id) != created.json().get("shard"):
            raise InfraError(f"user {user_id} was not stored on shard {t.shard_of(user_id)}")
        job = _call(s, "POST", f"{url}/users/{user_id}/photos", region, 202, json={"op": "blur"})
        job_id = str(job.json()["job_id"])
        started = time.monotonic()
        while True:
            status = _call(s, "GET", f"{url}/jobs/{job_id}", region, 200).json()["status"]
            if status == "done":
                break
            if time.monotonic() - started > job_timeout_s:
                raise InfraError(
                    f"photo job {job_id} not done after {job_timeout_s:.0f} s (status {status})",
                    hint="check the workers: `harness status` and their logs",
                )
            sleep(0.2)
    return SmokeResult(
        region=region,
        user_id=user_id,
        served_by=served,
        job_id=job_id,
        job_seconds=time.monotonic() - started,
    )


def region_url(endpoints: Endpoints, region: str) -> str:
    """Where the DNS server sends `region`'s users now: http://<its answer>:<entry port>."""
    try:
        answer = service_query(endpoints.dns, timeout_s=2.0)(region)
    except ResolveError as exc:
        raise InfraError(
            str(exc), hint="is the stack's dns container up? (harness status)"
        ) from exc
    return f"http://{answer.address}:{endpoints.entry_port}"


def check_stack(endpoints: Endpoints) -> list[SmokeResult]:
    return [check_region(region_url(endpoints, region), region) for region in t.REGIONS]


def deployed(container: Container, files: dict[str, str]) -> Deployed:
    """A container as Docker inspects it: its labels, the id of its image, its entrypoint and
    command, and its environment (the image's own variables included: the same image gives
    the same ones)."""
    config = container.attrs.get("Config") or {}
    env = {}
    for item in config.get("Env") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    own = container.labels
    return Deployed(
        instance=own.get(labels.INSTANCE, container.name or ""),
        service=own.get(labels.SERVICE, ""),
        image=str(container.attrs.get("Image", "")),
        command=(*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])),
        env=env,
        files=files,
    )


def region_parity(client: docker.DockerClient, stack: str) -> tuple[Parity, str | None]:
    """Both regions of the running stack compared, and a note when the files could not be.

    The files (each shard node's Patroni configuration) are the ones the harness wrote at
    the start: they are made from the spec of the config the stack was started with, which
    its containers carry in their config label."""
    containers = stack_containers(client, stack)
    files: dict[str, dict[str, str]] = {}
    note = None
    label = next((c.labels[CONFIG] for c in containers if c.labels.get(CONFIG)), "")
    try:
        config = StackConfig.from_json(label, name=stack)
    except ValueError:
        note = "configuration files not compared: the stack has no readable config label"
    else:
        files = {spec.instance: spec.files for spec in stack_spec(config)}
    found = [deployed(c, files.get(c.labels.get(labels.INSTANCE, ""), {})) for c in containers]
    return compare(found), note


def check_regions_identical(client: docker.DockerClient, stack: str) -> str:
    """The line `harness check` prints for identical regions; InfraError naming every
    difference (the containers and what differs) otherwise."""
    parity, note = region_parity(client, stack)
    if parity.pairs == 0 and parity.identical:
        raise InfraError(
            f"stack {stack!r} has no container of either region to compare",
            hint="start it with `harness up`",
        )
    if not parity.identical:
        raise InfraError(
            f"the two data centres of stack {stack!r} differ: {parity.summary()}",
            hint="every container of both regions is made from one spec: `harness down` then "
            "`harness up` makes them again from the same images and configuration",
            detail="\n".join(f"  {d.message()}" for d in parity.differences),
        )
    return parity.summary() + (f" ({note})" if note else "")
