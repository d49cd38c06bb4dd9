"""A quick end-to-end check of a running stack through the geo router.

For each region: create a user as a user of that region, read it back, and check that the
home region answered; then submit a photo job and wait until a worker has done it. Used by
`harness check` and the integration tests; traffic goes only to the router's loopback port.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from harness.errors import InfraError
from harness.stack import topology as t
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
    router: str,
    region: str,
    *,
    job_timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> SmokeResult:
    with requests.Session() as s:
        created = _call(s, "POST", f"{router}/users", region, 201, json={"name": f"smoke-{region}"})
        user_id = int(created.json()["id"])
        read = _call(s, "GET", f"{router}/users/{user_id}", region, 200)
        served = read.headers.get(SERVED_HEADER, "")
        if read.json().get("id") != user_id:
            raise InfraError(f"GET /users/{user_id} returned another user: {read.text[:200]}")
        if t.shard_of(user_id) != created.json().get("shard"):
            raise InfraError(f"user {user_id} was not stored on shard {t.shard_of(user_id)}")
        job = _call(s, "POST", f"{router}/users/{user_id}/photos", region, 202, json={"op": "blur"})
        job_id = str(job.json()["job_id"])
        started = time.monotonic()
        while True:
            status = _call(s, "GET", f"{router}/jobs/{job_id}", region, 200).json()["status"]
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


def check_stack(router: str) -> list[SmokeResult]:
    return [check_region(router, region) for region in t.REGIONS]
