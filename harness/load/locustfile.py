"""The harness's locustfile: the only module that imports Locust (gevent patches on import).

Run by harness.load.runner as `python -m locust -f <this file>`; never import it from the
harness. The settings come from the JSON file named by $CHAOS_LOAD_SETTINGS.

The closed model (the default): one User class per region with users, each with `fixed_count`
from region_counts(), so the split of users by home region is exact. The open model: one
OpenLoad user per load process, whose task runs that process's slice of the arrival schedule
(harness.load.arrivals), each iteration one of the same task functions in its own greenlet.
Locust stats entries are named "<home region> <route template>". Every request gives up after
the request timeout; a timeout, or an answer slower than it, is a failed request. A write is
judged in its `catch_response` block (its body is read there), a read as Locust counts it
(JudgedEvent, in front of each session's request event: no context manager per read).

Geo DNS (settings.uses_dns): users find the service by name (harness.load.resolver), each
closed-model user with a cache of its own (a share of them ignoring TTLs), and send each
request to http://<answer>:<entry port> with the Host the name; the home region header stays,
as a label. Without it every request goes to settings.host, where the header routes it.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import gevent
import locust.stats
from gevent import GreenletExit
from locust import FastHttpUser, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from locust.exception import CatchResponseError, StopUser
from locust.runners import MasterRunner, WorkerRunner

from harness.load import traffic as tr
from harness.load.answers import served_region
from harness.load.arrivals import Arrival, CorrectedEvent, OpenLoop, Schedule
from harness.load.client_metrics import DELTA_KEY, ClientMetrics, serve
from harness.load.geography import region_counts
from harness.load.ledger import LedgerWriter, commit_of, outcome_unknown
from harness.load.resolver import CachingResolver, ResolveError, dns_query
from harness.load.settings import SETTINGS_ENV, LoadSettings
from harness.load.state import LoadState, celebrity_plan
from harness.vocabulary import (
    HOME_HEADER,
    REGIONS,
    REQUEST_ID_HEADER,
    ROUTE_OF_REQUEST,
)

locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1  # progress() reads the history while it runs

SETTINGS = LoadSettings.read(os.environ[SETTINGS_ENV])
COUNTS = {r: n for r, n in region_counts(SETTINGS.geography, SETTINGS.users).items() if n > 0}
# The open model draws each iteration's region by the percents: every region with a share.
HOMES = (
    COUNTS if SETTINGS.model == "closed" else {r: 0 for r, p in SETTINGS.geography.items() if p > 0}
)
PICKER = tr.TaskPicker(SETTINGS.tasks)
METRICS = ClientMetrics()
LEDGER = LedgerWriter(SETTINGS.run_dir)
STATE = LoadState(SETTINGS)
log = logging.getLogger("harness.load")


JUDGING_KEY = "judging"  # every request's context: its Judging
# With geo DNS the header routes nothing (the answer does), and the Host is the service's name.
NAME_HEADER = {"Host": SETTINGS.dns_name} if SETTINGS.uses_dns else {}
HEADERS = {r: {HOME_HEADER: r, **NAME_HEADER} for r in HOMES}
QUERY = (
    dns_query(
        server=SETTINGS.dns_host,
        port=SETTINGS.dns_port,
        name=SETTINGS.dns_name,
        timeout_s=SETTINGS.dns_timeout_s,
    )
    if SETTINGS.uses_dns
    else None
)


class _Origins(dict[str, str]):
    """http://<address>:<entry port> of each answer, built at its first use (the hot path
    reads a dict; the few addresses a run sees are built once)."""

    def __missing__(self, address: str) -> str:
        origin = self[address] = f"http://{address}:{SETTINGS.entry_port}"
        return origin


ORIGINS = _Origins()


class Judging(NamedTuple):
    """What JudgedEvent does with a request, carried in its context (JUDGING_KEY; an
    Endpoint's): a GET's expected status and its judge (read_judge), or 0 and judged_already
    for a request judged already (a write, in its `catch_response` block; a failure counted
    without an answer); and the `add` of its (home region, route)'s client metrics
    (harness.load.client_metrics.RouteCounts)."""

    expected: int
    judge: Callable[[Any, float], str | None]
    add: Callable[[str | None, bool, float], None]


class JudgedEvent:
    """Stands in for Locust's request `event` on every HTTP session the harness sends with
    (Sender installs it; the open model's user with its `corrected` latencies), and every
    request of the harness goes through it (dropped() too). For each, by the Judging its
    context carries, in this order:

    - a GET, sent without `catch_response` (whose context manager is about 2 us of CPU a
      request), is judged by its judge, by its own time; the two checks its judge makes first
      (the expected status, in time) are made here, and the judge called only when one fails;
    - the open model's latency correction (harness.load.arrivals.CorrectedEvent);
    - the client metrics count it (here rather than in a listener of Locust's event, which
      would cost another call with all its arguments on every request);
    - on to the listeners of Locust's event (its stats), which count it."""

    __slots__ = ("corrected", "event", "handlers")

    def __init__(self, event: Any, corrected: CorrectedEvent | None = None) -> None:
        self.event, self.corrected = event, corrected
        # The event's listeners (Locust's stats), called here as EventHook.fire calls them:
        # through fire they cost another copy of every argument and a frame, about 1 % of a
        # request's CPU. The live list, so a listener added later is called too. None (a
        # Locust that keeps them elsewhere): through fire.
        handlers = getattr(event, "_handlers", None)
        self.handlers: list[Callable[..., None]] | None = (
            handlers if isinstance(handlers, list) else None
        )

    def fire(self, **meta: Any) -> None:
        judging = meta["context"].get(JUDGING_KEY)
        if judging is not None:  # always, for the harness's requests
            expected, judge, add = judging
            response = meta["response"]
            if expected and (
                response.status_code != expected or meta["response_time"] > TIMEOUT_MS
            ):
                why = judge(response, meta["response_time"])
                if why is not None:  # what resp.failure(why) would have reported
                    meta["exception"] = CatchResponseError(why)
            if self.corrected is not None:
                meta["response_time"] = self.corrected.correct(meta["response_time"]) or 0.0
            add(served_region(response), meta["exception"] is None, meta["response_time"] / 1000.0)
        handlers = self.handlers
        if handlers is None:
            self.event.fire(**meta)
            return
        for handler in handlers:
            handler(**meta)


class Sender:
    """What a task sends with: a user's HTTP session and, with geo DNS, the resolver that
    says where its requests go (None: to the session's base URL, settings.host). Puts a
    JudgedEvent (once) in front of the session's request event: its GETs are judged there."""

    __slots__ = ("http", "request", "resolver")

    def __init__(self, http: Any, resolver: CachingResolver | None) -> None:
        self.http, self.resolver = http, resolver
        self.request = http.request  # read for every request (hot path)
        if not isinstance(http.request_event, JudgedEvent):
            http.request_event = JudgedEvent(http.request_event)

    def url(self, path: str) -> str:
        """Where to send `path`: an absolute URL at the resolved entry (FastHttpSession sends
        an absolute URL as it is), else `path` for the base URL. ResolveError: no answer.
        A question asked here is not in the closed model's response times (Locust times the
        request alone); the open model's are timed from when the iteration was due, so it is."""
        resolver = self.resolver
        return path if resolver is None else ORIGINS[resolver.address()] + path


def new_resolver(region: str, *, ignores_ttl: bool) -> CachingResolver | None:
    """A client's DNS cache for a `region` user (None without geo DNS). One that ignores TTLs
    keeps every answer settings.stale_keep_s."""
    if QUERY is None:
        return None
    keep_s = SETTINGS.stale_keep_s if ignores_ttl else None
    return CachingResolver(query=QUERY, region=region, keep_s=keep_s, observer=METRICS)


TIMEOUT_MS = SETTINGS.request_timeout_s * 1000.0
WRITE_OPS = {tr.ROUTE_CREATE_USER: "user", tr.ROUTE_SUBMIT_PHOTO: "job"}
# A GET's judge compares the answer's status with this first; only another status goes on
# to traffic.is_ok, which judges (a status other than the expected one is a failure there too).
EXPECTED = tr.EXPECTED_STATUS
THINK_LOW_S, THINK_HIGH_S = SETTINGS.think_time_s


def _failure(route: str, status: int, resp: Any) -> str:
    expected = tr.EXPECTED_STATUS[route]
    if status:
        return f"HTTP {status}, expected {expected}"
    # One stable message per kind of error, so Locust groups them (no addresses in it).
    return f"no answer ({type(getattr(resp, 'error', None)).__name__}), expected {expected}"


def unresolved(
    sender: Sender, method: str, endpoint: Endpoint, path: str, exc: ResolveError
) -> None:
    """A request that could not be sent for want of any DNS answer: a failed request of its
    route, timed by the question (never sent, so nothing for the ledger: a definite no)."""
    why = f"no answer (ResolveError: {exc.kind}), expected {EXPECTED[endpoint.route]}"
    sender.http.request_event.fire(
        request_type=method,
        name=endpoint.name,
        response_time=exc.waited_s * 1000.0,
        response_length=0,
        response=None,
        context=endpoint.failed_context,
        exception=CatchResponseError(why),  # what resp.failure() reports, so grouped alike
        start_time=time.time(),
        url=path,
    )


# Answered, but after the request timeout: a failure like a timeout. (The socket gives up
# after request_timeout without progress; a trickling answer can take longer.)
LATE = f"answered after the {SETTINGS.request_timeout_s:g} s request timeout"
READBACK_FAILURE = "HTTP {}, expected 200 (reading back the user just created)"


def read_judge(route: str, *, readback: bool = False) -> Callable[[Any, float], str | None]:
    """What JudgedEvent asks of a GET of `route`: why its answer (taking `response_time` ms)
    is a failure, None when it is not. Judged by traffic.is_ok (a 404 is a failure: the ids
    read were acknowledged), then by the request timeout. `readback`: the read of a user
    just created (its failures say so)."""
    expected = EXPECTED[route]

    def judge(resp: Any, response_time: float) -> str | None:
        status = int(resp.status_code or 0)
        if status != expected and not tr.is_ok(route, status):
            return READBACK_FAILURE.format(status) if readback else _failure(route, status, resp)
        if response_time > TIMEOUT_MS:  # the only cost past the status on the hot path
            return LATE
        return None

    return judge


def judged_already(resp: Any, response_time: float) -> str | None:
    """The judge of a request that comes judged (never called: its expected status is 0)."""
    return None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One (home region, route) as its requests are sent, built once (hot path): its stats
    name, headers and the context its requests carry. A context holds only the Judging,
    which is all JudgedEvent reads: Locust copies every context into a new dict."""

    region: str
    route: str
    name: str
    headers: dict[str, str]
    context: dict[str, Judging]  # a GET's judges it, another's only counts it
    failed_context: dict[str, Judging]  # a failure counted without an answer: not judged


def endpoint(region: str, route: str, *, readback: bool = False) -> Endpoint:
    """`route` of a `region` user: a GET judged by its read_judge (`readback`: as the read of a
    user just created), another request counted as it comes, both by that pair's counts."""
    count = METRICS.route(region, route).add
    counted = Judging(0, judged_already, count)
    judged = (
        Judging(EXPECTED[route], read_judge(route, readback=readback), count)
        if route in tr.READ_ROUTES
        else counted
    )
    return Endpoint(
        region=region,
        route=route,
        name=tr.stats_name(region, route),
        headers=HEADERS[region],
        context={JUDGING_KEY: judged},
        failed_context={JUDGING_KEY: counted},
    )


@dataclass(frozen=True, slots=True)
class Home:
    """What the users of one home region send to: an Endpoint per route (by its attribute
    on the hot path, by `route` elsewhere)."""

    region: str
    create_user: Endpoint
    read_user: Endpoint
    readback: Endpoint  # read_user's route, read right after the user was created
    submit_photo: Endpoint
    read_job: Endpoint

    @classmethod
    def of(cls, region: str) -> Home:
        return cls(
            region=region,
            create_user=endpoint(region, tr.ROUTE_CREATE_USER),
            read_user=endpoint(region, tr.ROUTE_READ_USER),
            readback=endpoint(region, tr.ROUTE_READ_USER, readback=True),
            submit_photo=endpoint(region, tr.ROUTE_SUBMIT_PHOTO),
            read_job=endpoint(region, tr.ROUTE_READ_JOB),
        )

    def route(self, route: str) -> Endpoint:
        endpoints = (self.create_user, self.read_user, self.submit_photo, self.read_job)
        return next(e for e in endpoints if e.route == route)


def get(sender: Sender, endpoint: Endpoint, path: str) -> Any:
    """One GET of `path` to `endpoint`, judged as it is counted by the session's JudgedEvent;
    the answer, None when it could not be sent for want of a DNS answer (a failed request
    too)."""
    if sender.resolver is None:  # no geo DNS: `path` for the session's base URL
        url = path
    else:
        try:
            url = sender.url(path)
        except ResolveError as exc:  # not after an answer: the resolver keeps the last one
            unresolved(sender, "GET", endpoint, path, exc)
            return None
    return sender.request(
        "GET", url, name=endpoint.name, headers=endpoint.headers, context=endpoint.context
    )


def post(sender: Sender, endpoint: Endpoint, path: str, body: Any, user: int = 0) -> Any:
    """One write to `endpoint`, judged by traffic.is_ok, the request timeout and its body;
    returns the parsed JSON body on success, else None. Writes the stack acknowledged go to
    the ledger, and so do writes whose outcome was not seen (no answer, 5xx, an unreadable
    2xx): `user` is the photo's owner."""
    region, route = endpoint.region, endpoint.route
    try:
        url = sender.url(path)
    except ResolveError as exc:
        unresolved(sender, "POST", endpoint, path, exc)
        return None
    # A write carries an id of its own, which the entries log (harness/stack/entry_log.py).
    request_id = next_request_id()
    headers = {**endpoint.headers, REQUEST_ID_HEADER: request_id}
    with sender.request(
        "POST",
        url,
        name=endpoint.name,
        json=body,
        headers=headers,
        catch_response=True,
        context=endpoint.context,
    ) as resp:
        status = int(resp.status_code or 0)
        if not tr.is_ok(route, status):
            resp.failure(_failure(route, status, resp))
            error = getattr(resp, "error", None)
            if outcome_unknown(status, error, resp.headers):
                _unknown(resp, region, route, status, user, request_id)
            return None
        if resp.request_meta["response_time"] > TIMEOUT_MS:
            resp.failure(LATE)  # a write acknowledged late is still acknowledged: to the ledger
        served = served_region(resp) or "none"
        commit = commit_of(resp.headers)
        try:
            data = resp.json()
            if route == tr.ROUTE_CREATE_USER:
                LEDGER.user(
                    id=data["id"], shard=data["shard"], home=region, served=served, commit=commit
                )
            else:
                LEDGER.job(
                    id=data["job_id"], user_id=user, home=region, served=served, commit=commit
                )
        except (ValueError, KeyError, TypeError) as exc:
            resp.failure(f"unexpected response body: {exc!r}")
            _unknown(resp, region, route, status, user, request_id)
            return None
        return data


_REQUEST_IDS = itertools.count(1)


def next_request_id() -> str:
    """Unique in the run: the load process's pid and a counter (`1f3a-42`)."""
    return f"{os.getpid():x}-{next(_REQUEST_IDS)}"


def _unknown(
    resp: Any, region: str, route: str, status: int, user: int, request_id: str = ""
) -> None:
    served = served_region(resp) or "none"
    owner = user if route == tr.ROUTE_SUBMIT_PHOTO else None
    LEDGER.unknown(
        op=WRITE_OPS[route], home=region, served=served, status=status, user_id=owner,
        request_id=request_id,
    )  # fmt: skip


def read_back(sender: Sender, home: Home, user_id: int) -> int:
    """GET the user just created; its status (0 without an answer). A 404 is a failure: the
    stack acknowledged this id a moment ago."""
    resp = get(sender, home.readback, f"/users/{user_id}")
    return 0 if resp is None else int(resp.status_code or 0)


# The tasks, shared by both load models: what a user of `home` does with `sender`, its
# decisions drawn from `rng`.


def create_user(sender: Sender, home: Home, rng: random.Random) -> None:
    body = {"name": f"u-{home.region}-{rng.getrandbits(32):08x}"}
    data = post(sender, home.create_user, "/users", body)
    if data is None:
        return
    user_id = int(data["id"])
    STATE.user_acknowledged(user_id)
    # A signup lands on the new profile: read it back at once (read_your_writes).
    LEDGER.readback(id=user_id, status=read_back(sender, home, user_id))


def read_user(sender: Sender, home: Home, rng: random.Random) -> None:
    user_id = STATE.pick_user(rng)
    if user_id is None:
        return create_user(sender, home, rng)
    get(sender, home.read_user, f"/users/{user_id}")


def submit_photo(sender: Sender, home: Home, rng: random.Random) -> None:
    user_id = STATE.pick_user(rng)
    if user_id is None:
        return create_user(sender, home, rng)
    body = {"op": rng.choice(tr.PHOTO_OPS)}
    data = post(sender, home.submit_photo, f"/users/{user_id}/photos", body, user_id)
    if data is not None:
        STATE.job_acknowledged(str(data["job_id"]))


def read_job(sender: Sender, home: Home, rng: random.Random) -> None:
    job_id = STATE.pick_job(rng)
    if job_id is None:
        return submit_photo(sender, home, rng)
    get(sender, home.read_job, f"/jobs/{job_id}")


TASKS: dict[str, Callable[[Sender, Home, random.Random], None]] = {
    "create_user": create_user,
    "read_user": read_user,
    "submit_photo": submit_photo,
    "read_job": read_job,
}
# Each home region's endpoints, built once.
HOME_OF = {r: Home.of(r) for r in HOMES}


class RegionUser(FastHttpUser):
    """The closed model: a user of one home region, looping over tasks with think time."""

    abstract = True
    region = ""
    network_timeout = connection_timeout = SETTINGS.request_timeout_s

    def wait_time(self) -> float:
        if THINK_LOW_S == THINK_HIGH_S:
            return THINK_LOW_S
        return self.rng.uniform(THINK_LOW_S, THINK_HIGH_S)

    def on_start(self) -> None:
        self.rng, ignores_ttl = STATE.new_user(self.region)
        self.home = HOME_OF[self.region]
        self.sender = Sender(self.client, new_resolver(self.region, ignores_ttl=ignores_ttl))
        create_user(self.sender, self.home, self.rng)

    @task
    def step(self) -> None:
        TASKS[PICKER.pick(self.rng)](self.sender, self.home, self.rng)


class OpenModelUser(FastHttpUser):
    """The open model: one per load process, running its process's slice of the schedule
    (harness.load.arrivals) with the same tasks as the closed model."""

    abstract = True
    network_timeout = connection_timeout = SETTINGS.request_timeout_s
    concurrency = SETTINGS.in_flight_per_process  # a connection for each iteration in flight

    @task
    def run_schedule(self) -> None:
        global OPEN_LOOPS
        OPEN_LOOPS += 1
        if OPEN_LOOPS > 1:  # a second one in this process would run the same slice again
            log.error(
                "more than one open-model loop in process %s: this one stays idle", os.getpid()
            )
            raise StopUser()
        worker = STATE.worker
        corrected = CorrectedEvent(self.environment.events.request)
        self.client.request_event = JudgedEvent(self.environment.events.request, corrected)
        body_rng = random.Random(f"chaos-open-tasks:{SETTINGS.seed}:{worker}")
        loop = OpenLoop(
            Schedule(
                rate=SETTINGS.rate,
                duration_s=SETTINGS.duration_s,
                slices=SETTINGS.processes,
                slice=worker % SETTINGS.processes,
            ),
            max_in_flight=SETTINGS.in_flight_per_process,
            regions=tr.TaskPicker(SETTINGS.geography),
            tasks=PICKER,
            rng=random.Random(f"chaos-open:{SETTINGS.seed}:{worker}"),
        )
        why = f"dropped: {SETTINGS.in_flight_per_process} iterations in flight (max_in_flight)"
        # The approximation: each iteration stands for a client, but a home region's iterations
        # share one DNS cache (and one more for those ignoring TTLs), like the clients behind
        # one resolver of their network. They all move to a new answer at once, where clients
        # with caches of their own would move over a TTL.
        senders = {
            region: tuple(
                Sender(self.client, new_resolver(region, ignores_ttl=stale))
                for stale in (False, True)
            )
            for region in HOMES
        }

        def iteration(arrival: Arrival) -> None:
            corrected.due(arrival.due)  # the latency from when due includes any DNS question
            region = arrival.region
            stale = SETTINGS.stale_share > 0 and STATE.next_client_ignores_ttl(region)
            try:
                TASKS[arrival.task](senders[region][stale], HOME_OF[region], body_rng)
            except Exception:
                log.exception("open-model iteration %s failed", arrival.task)
            except GreenletExit:
                # Killed at the end with its request unanswered: counted, not lost from view.
                late_ms = (time.perf_counter() - arrival.due) * 1000.0
                dropped(self.environment, arrival, CUT_OFF, max(TIMEOUT_MS, late_ms))
                raise
            finally:
                corrected.done()

        try:
            result = loop.run(iteration, lambda a: dropped(self.environment, a, why))
            left = loop.finish(SETTINGS.request_timeout_s + 1.0)
            # Locust's log is WARNING and up: say so only when iterations were lost.
            report = log.warning if result.dropped or left else log.info
            report(
                "open model: %s iterations started, %s dropped, %s cut off at the end",
                result.started,
                result.dropped,
                left,
            )
        finally:
            # Also when Locust kills this user at its stop timeout: the killed iterations report
            # themselves as cut off (in iteration()) before the user is gone.
            loop.pool.kill(block=True, timeout=1.0)
        raise StopUser()


OPEN_LOOPS = 0
CUT_OFF = "cut off: still running when the load stopped"


def _user_classes() -> dict[str, type[FastHttpUser]]:
    if SETTINGS.model == "open":
        return {"OpenLoad": type("OpenLoad", (OpenModelUser,), {"__module__": __name__})}
    classes: dict[str, type[FastHttpUser]] = {}
    for region, count in COUNTS.items():
        name = "Users_" + region.replace("-", "_")
        attrs = {"region": region, "fixed_count": count, "__module__": __name__}
        classes[name] = type(name, (RegionUser,), attrs)
    return classes


def dropped(
    environment: Environment, arrival: Arrival, why: str, response_time: float = TIMEOUT_MS
) -> None:
    """An open-model iteration that could not start, or was cut off: a failed request of its
    task's first route, timed as if it had timed out (harness.load.arrivals)."""
    route = ROUTE_OF_REQUEST[arrival.task]
    target = HOME_OF[arrival.region].route(route)
    JudgedEvent(environment.events.request).fire(  # counted as every request is
        request_type="POST" if route in WRITE_OPS else "GET",
        name=target.name,
        response_time=response_time,
        response_length=0,
        response=None,
        context=target.failed_context,
        exception=DroppedIteration(why),
        start_time=time.time(),
        url=route,
    )


class DroppedIteration(Exception):
    """The open model had max_in_flight iterations running when this one was due, or this
    one was still running when the load stopped."""


# Locust finds User classes among the module's globals.
USER_CLASSES = _user_classes()
globals().update(USER_CLASSES)
REGION_OF_CLASS = {
    name: cls.region for name, cls in USER_CLASSES.items() if issubclass(cls, RegionUser)
}


def create_celebrities(environment: Environment) -> None:
    client = FastHttpSession(
        SETTINGS.host,
        environment.events.request,
        user=None,
        network_timeout=SETTINGS.request_timeout_s,
        connection_timeout=SETTINGS.request_timeout_s,
    )
    senders = {r: Sender(client, new_resolver(r, ignores_ttl=False)) for r in HOMES}
    for shard, region in celebrity_plan(SETTINGS.hotspots, list(HOMES)):
        for _attempt in range(3):
            body = {"name": f"celebrity-{shard}", "shard": shard}
            data = post(senders[region], HOME_OF[region].create_user, "/users", body)
            if data is not None:
                STATE.celebrity_acknowledged(shard, int(data["id"]))
                break


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
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
