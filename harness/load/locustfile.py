"""The harness's locustfile: the only module that imports Locust (gevent patches on import).

Run by harness.load.runner as `python -m locust -f <this file>`; never import it from the
harness. The settings come from the JSON file named by $CHAOS_LOAD_SETTINGS. One User class
per region with users, each with `fixed_count` from region_counts(), so the split of users by
home region is exact. Locust stats entries are named "<home region> <route template>".
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import gevent
import locust.stats
from locust import FastHttpUser, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.load import traffic as tr
from harness.load.client_metrics import DELTA_KEY, ClientMetrics, serve
from harness.load.geography import region_counts
from harness.load.ledger import LedgerWriter
from harness.load.settings import SETTINGS_ENV, LoadSettings
from harness.load.state import LoadState, celebrity_plan
from harness.stack.topology import REGIONS

HOME_HEADER = "X-Home-Region"
SERVED_HEADER = "X-Served-Region"
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1  # progress() reads the history while it runs

SETTINGS = LoadSettings.read(os.environ[SETTINGS_ENV])
COUNTS = {r: n for r, n in region_counts(SETTINGS.geography, SETTINGS.users).items() if n > 0}
PICKER = tr.TaskPicker(SETTINGS.tasks)
METRICS = ClientMetrics()
LEDGER = LedgerWriter(SETTINGS.run_dir)
STATE = LoadState(SETTINGS)
log = logging.getLogger("harness.load")


# Per (region, route): the stats name and the request context, built once (hot path).
NAMES = {(r, route): tr.stats_name(r, route) for r in COUNTS for route in tr.EXPECTED_STATUS}
CONTEXTS = {
    (r, route): {"region": r, "route": route} for r in COUNTS for route in tr.EXPECTED_STATUS
}
HEADERS = {r: {HOME_HEADER: r} for r in COUNTS}


def send(
    client: Any, region: str, method: str, route: str, path: str, body: Any = None, user: int = 0
) -> Any:
    """One request, judged by traffic.is_ok; returns the parsed JSON body on success, else None.
    Writes the stack acknowledged (POSTs) go to the ledger; `user` is the photo's owner."""
    with client.request(
        method,
        path,
        name=NAMES[region, route],
        json=body,
        headers=HEADERS[region],
        catch_response=True,
        context=CONTEXTS[region, route],
    ) as resp:
        if not tr.is_ok(route, resp.status_code):
            resp.failure(f"HTTP {resp.status_code}, expected {tr.EXPECTED_STATUS[route]}")
            return None
        if method != "POST":
            return {}
        served = (resp.headers or {}).get(SERVED_HEADER) or "none"
        try:
            data = resp.json()
            if route == tr.ROUTE_CREATE_USER:
                LEDGER.user(id=data["id"], shard=data["shard"], home=region, served=served)
            else:
                LEDGER.job(id=data["job_id"], user_id=user, home=region, served=served)
        except (ValueError, KeyError, TypeError) as exc:
            resp.failure(f"unexpected response body: {exc!r}")
            return None
        return data


def read_back(client: Any, region: str, user_id: int) -> int:
    """GET the user just created; its status (0 without an answer). A 404 is a failure: the
    stack acknowledged this id a moment ago."""
    route = tr.ROUTE_READ_USER
    with client.request(
        "GET",
        f"/users/{user_id}",
        name=NAMES[region, route],
        headers=HEADERS[region],
        catch_response=True,
        context=CONTEXTS[region, route],
    ) as resp:
        status = int(resp.status_code or 0)
        if not tr.is_ok(route, status):
            resp.failure(f"HTTP {status}, expected 200 (reading back the user just created)")
        return status


class RegionUser(FastHttpUser):
    abstract = True
    region = ""

    def wait_time(self) -> float:
        low, high = SETTINGS.think_time_s
        return low if low == high else self.rng.uniform(low, high)

    def on_start(self) -> None:
        self.rng = STATE.new_user_rng(self.region)
        self.create_user()

    @task
    def step(self) -> None:
        getattr(self, PICKER.pick(self.rng))()

    def create_user(self) -> None:
        body = {"name": f"u-{self.region}-{self.rng.getrandbits(32):08x}"}
        data = send(self.client, self.region, "POST", tr.ROUTE_CREATE_USER, "/users", body)
        if data is None:
            return
        user_id = int(data["id"])
        STATE.user_acknowledged(user_id)
        # A signup lands on the new profile: read it back at once (read_your_writes).
        LEDGER.readback(id=user_id, status=read_back(self.client, self.region, user_id))

    def read_user(self) -> None:
        user_id = STATE.pick_user(self.rng)
        if user_id is None:
            return self.create_user()
        send(self.client, self.region, "GET", tr.ROUTE_READ_USER, f"/users/{user_id}")

    def submit_photo(self) -> None:
        user_id = STATE.pick_user(self.rng)
        if user_id is None:
            return self.create_user()
        body = {"op": self.rng.choice(tr.PHOTO_OPS)}
        data = send(
            self.client,
            self.region,
            "POST",
            tr.ROUTE_SUBMIT_PHOTO,
            f"/users/{user_id}/photos",
            body,
            user_id,
        )
        if data is not None:
            STATE.job_acknowledged(str(data["job_id"]))

    def read_job(self) -> None:
        job_id = STATE.pick_job(self.rng)
        if job_id is None:
            return self.submit_photo()
        send(self.client, self.region, "GET", tr.ROUTE_READ_JOB, f"/jobs/{job_id}")


def _user_classes() -> dict[str, type[RegionUser]]:
    classes = {}
    for region, count in COUNTS.items():
        name = "Users_" + region.replace("-", "_")
        attrs = {"region": region, "fixed_count": count, "__module__": __name__}
        classes[name] = type(name, (RegionUser,), attrs)
    return classes


# Locust finds User classes among the module's globals.
USER_CLASSES = _user_classes()
globals().update(USER_CLASSES)
REGION_OF_CLASS = {name: cls.region for name, cls in USER_CLASSES.items()}


def create_celebrities(environment: Environment) -> None:
    client = FastHttpSession(SETTINGS.host, environment.events.request, user=None)
    for shard, region in celebrity_plan(SETTINGS.hotspots, list(COUNTS)):
        for _attempt in range(3):
            body = {"name": f"celebrity-{shard}", "shard": shard}
            data = send(client, region, "POST", tr.ROUTE_CREATE_USER, "/users", body)
            if data is not None:
                STATE.celebrity_acknowledged(shard, int(data["id"]))
                break


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    environment.events.request.add_listener(on_request)
    if isinstance(runner, WorkerRunner):
        environment.events.report_to_master.add_listener(on_report_to_master)
        return
    if isinstance(runner, MasterRunner):
        environment.events.worker_report.add_listener(on_worker_report)
    METRICS.precreate(REGIONS, tr.EXPECTED_STATUS)  # before the first scrape and request
    try:
        serve(METRICS, SETTINGS.metrics_host, SETTINGS.metrics_port)
    except OSError as exc:
        log.error(
            "cannot serve metrics on %s:%s: %s", SETTINGS.metrics_host, SETTINGS.metrics_port, exc
        )
        sys.exit(3)
    METRICS.users_source = lambda: users_by_region(environment)


def users_by_region(environment: Environment) -> dict[str, int]:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        by_class = dict(runner.reported_user_classes_count)
    else:
        by_class = runner.user_classes_count if runner else {}
    return {REGION_OF_CLASS[c]: n for c, n in by_class.items() if c in REGION_OF_CLASS}


def on_request(
    context: dict[str, Any], response: Any, response_time: float, exception: Any, **_: Any
) -> None:
    if "route" not in context:
        return
    headers = getattr(response, "headers", None) or {}
    METRICS.observe(
        region=context["region"],
        route=context["route"],
        served=headers.get(SERVED_HEADER),
        ok=exception is None,
        seconds=response_time / 1000.0,
    )


def on_report_to_master(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data[DELTA_KEY] = METRICS.take_delta()


def on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    if DELTA_KEY in data:
        METRICS.merge(data[DELTA_KEY])


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        return
    STATE.worker = getattr(environment.runner, "worker_index", 0)
    STATE.start()
    if SETTINGS.hotspots:
        gevent.spawn(create_celebrities, environment)


@events.test_stop.add_listener
def on_test_stop(**_: Any) -> None:
    LEDGER.close()


@events.quitting.add_listener
def on_quitting(**_: Any) -> None:
    LEDGER.close()
