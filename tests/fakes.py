"""Fakes of every port (harness/ports.py) and of the Docker SDK client, shared by the unit tests.

Each behaves like its real adapter where a test can tell: it holds state (links disabled,
toxics, container status), records its calls, and fails the way the adapter fails, with an
`InfraError` (never a KeyError or a None). `journal` lists, in order, what the fakes of one
Target were asked to do, so a test can read the order of a run's cleanups.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import docker.errors

from harness import vocabulary as v
from harness.errors import InfraError
from harness.faults.effects import FaultEffects
from harness.faults.runtime import FaultContext
from harness.load.progress import Progress
from harness.load.settings import LoadSettings
from harness.ports import JobRow, QueueStats
from harness.record import Series
from harness.slo.query import Sample
from harness.stack import labels as stack_labels
from harness.stack import topology as t
from harness.stack.endpoints import Endpoints
from harness.target import Target

Journal = list[str]

ENDPOINTS = Endpoints(
    entries={"us-east": "http://127.0.1.1:1", "us-west": "http://127.0.2.1:1"},
    entry_port=1,
    dns="127.0.0.1:2",
    prometheus="http://127.0.0.1:3",
    toxiproxy="http://127.0.0.1:4",
    queues={"us-east": "redis://127.0.0.1:5/0", "us-west": "redis://127.0.0.1:6/0"},
    shards=tuple(
        tuple(f"postgresql://harness@127.0.0.1:{10 + 2 * s + r}/harness" for r in range(2))
        for s in range(4)
    ),
    patroni=tuple(tuple(f"http://127.0.0.1:{30 + 2 * s + r}" for r in range(2)) for s in range(4)),
    gateway="172.17.0.1",
)


# --- LinkControl -------------------------------------------------------------------------
class FakeToxiproxy:
    """Links by name, all enabled; toxics per link. `fail_on` makes calls on that link fail;
    `resets_left` (a count) makes every `reset` after that many fail, as an unreachable
    Toxiproxy does at the end of a run."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.enabled = {name: True for name in t.LINK_NAMES}
        self.toxics: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in t.LINK_NAMES}
        self.calls: list[tuple[str, ...]] = []
        self.fail_on: str | None = None
        self.resets_left: int | None = None
        self.journal = journal if journal is not None else []

    def _link(self, name: str) -> None:
        if name not in self.enabled:
            raise InfraError(f"Toxiproxy at http://fake has no proxy named {name!r}")
        if self.fail_on == name:
            raise InfraError(f"Toxiproxy at http://fake did not answer for {name}")

    def set_enabled(self, name: str, enabled: bool) -> None:
        self._link(name)
        self.calls.append(("enable" if enabled else "disable", name))
        self.enabled[name] = enabled

    def add_toxic(self, proxy: str, *, name: str, type: str, attributes: dict[str, Any],
                  stream: str = "downstream", toxicity: float = 1.0) -> None:  # fmt: skip
        self._link(proxy)
        self.calls.append(("add", proxy, name))
        self.toxics[proxy][name] = {"type": type, "attributes": attributes, "stream": stream,
                                    "toxicity": toxicity}  # fmt: skip

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._link(proxy)
        self.calls.append(("remove", proxy, name))
        self.toxics[proxy].pop(name, None)

    def reset(self) -> None:
        self.calls.append(("reset",))
        if self.resets_left is not None:
            if self.resets_left <= 0:
                raise InfraError("Toxiproxy at http://fake did not answer POST /reset")
            self.resets_left -= 1
        self.journal.append("links reset")
        self.enabled = dict.fromkeys(self.enabled, True)
        self.toxics = {name: {} for name in self.toxics}

    def dirty(self) -> list[str]:
        return [n for n, e in self.enabled.items() if not e] + [
            f"{n}:{x}" for n, ts in self.toxics.items() for x in ts
        ]


# --- ContainerControl --------------------------------------------------------------------
@dataclass
class FakeContainer:
    name: str
    status: str = "running"


@dataclass
class FakeContainers:
    services: dict[str, list[str]]
    containers: dict[str, FakeContainer] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    busy: bool = True
    journal: Journal = field(default_factory=list)
    idle: set[str] = field(default_factory=set)  # workers that never take a job
    # Each change takes `step_s` on `clock` (docker stop waits for the process to exit).
    clock: FakeClock | None = None
    step_s: float = 0.0
    refuse_start: set[str] = field(default_factory=set)  # `start` fails for these containers

    def __post_init__(self) -> None:
        for names in self.services.values():
            for n in names:
                self.containers[n] = FakeContainer(n)

    def instances(self, target: str) -> list[FakeContainer]:
        names = self.services.get(target, [target] if target in self.containers else [])
        if not names:
            raise InfraError(f"stack 'fake' has no service or container named {target!r}")
        return [self.containers[n] for n in names]

    def _set(self, verb: str, c: FakeContainer, status: str) -> None:
        self.calls.append((verb, c.name))
        if self.clock is not None:
            self.clock.sleep(self.step_s)
        c.status = status

    def kill(self, c: FakeContainer) -> None:
        self._set("kill", c, "exited")

    def stop(self, c: FakeContainer) -> None:
        self._set("stop", c, "exited")

    def start(self, c: FakeContainer) -> None:
        if c.name in self.refuse_start:
            raise InfraError(f"Docker could not start container chaos-fake-{c.name}: refused")
        self._set("start", c, "running")

    def pause(self, c: FakeContainer) -> None:
        self._set("pause", c, "paused")

    def unpause(self, c: FakeContainer) -> None:
        self._set("unpause", c, "running")

    def wait_worker_busy(self, c: FakeContainer, timeout_s: float) -> bool:
        self.calls.append(("busy?", c.name))
        return self.busy and c.name not in self.idle

    def heal_all(self) -> list[str]:
        self.journal.append("containers healed")
        healed = self.down()
        for name in healed:
            self.start(self.containers[name])
        return healed

    def down(self) -> list[str]:
        return [c.name for c in self.containers.values() if c.status != "running"]


def default_services() -> dict[str, list[str]]:
    """The bundled stack's services with one web and two workers per region: per region its
    tiers, its queue and its copy of every shard (one container each)."""
    services: dict[str, list[str]] = {"dns": ["dns"], "witness": ["witness"]}
    for r in t.REGIONS:
        services[v.entry_service(r)] = [v.entry_service(r)]
        services[f"web-{r}"] = [f"web-{r}-1"]
        services[f"worker-{r}"] = [f"worker-{r}-1", f"worker-{r}-2"]
        services[v.queue_service(r)] = [v.queue_service(r)]
        for s in range(t.SHARD_COUNT):
            services[t.shard_node(s, r)] = [t.shard_node(s, r)]
    return services


def make_context(
    tox: FakeToxiproxy | None = None,
    containers: FakeContainers | None = None,
    effects: FaultEffects | None = None,
) -> tuple[FaultContext, FakeToxiproxy, FakeContainers, list[tuple[str, str]]]:
    tox = tox or FakeToxiproxy()
    containers = containers or FakeContainers(default_services())
    events: list[tuple[str, str]] = []
    ctx = FaultContext(
        links=tox,
        containers=containers,
        event=lambda kind, msg: events.append((kind, msg)),
        label="f0",
        effects=effects or FaultEffects(),
    )
    return ctx, tox, containers, events


# --- PromQuery ---------------------------------------------------------------------------
class FakeProm:
    """Answers every query with one recorded result (or raises it, e.g. the InfraError the
    real client raises), and remembers the calls. `ranges` answers range queries by PromQL."""

    def __init__(
        self,
        instant: Any = None,
        series: Any = None,
        *,
        ranges: dict[str, list[Series] | Exception] | None = None,
    ):
        self.instant_answer = instant
        self.range_answer = series
        self.ranges = ranges
        self.calls: list[tuple[Any, ...]] = []

    def instant(self, promql: str, at: float) -> list[Sample]:
        self.calls.append(("instant", promql, at))
        if isinstance(self.instant_answer, Exception):
            raise self.instant_answer
        return list(self.instant_answer or [])

    def range(self, promql: str, start: float, end: float, step_s: float = 1.0) -> list[Series]:
        self.calls.append(("range", promql, start, end, step_s))
        answer = self.range_answer if self.ranges is None else self.ranges.get(promql, [])
        if isinstance(answer, Exception):
            raise answer
        return list(answer or [])


# --- ShardSource, QueueSource and a clock --------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeShards:
    """Users by shard; jobs finish one poll at a time (`done_after` polls), or never."""

    count = 4

    def __init__(self, users: dict[int, set[int]], jobs: dict[str, int], *, broken: bool = False):
        self.users = users
        self.jobs = jobs  # job id -> polls until done (-1: never, -2: no row)
        self.broken = broken
        self.polls: dict[int, int] = {}
        self.closed = False

    def users_present(self, shard: int, ids: Sequence[int]) -> set[int]:
        if self.broken:
            raise InfraError(f"shard-{shard} at postgresql://x could not be read: refused")
        return self.users.get(shard, set()) & set(ids)

    def job_rows(self, shard: int, ids: Sequence[str]) -> list[JobRow]:
        if self.broken:
            raise InfraError(f"shard-{shard} at postgresql://x could not be read: refused")
        poll = self.polls[shard] = self.polls.get(shard, 0) + 1
        rows = []
        for job_id in ids:
            after = self.jobs[job_id]
            if after == -2:
                continue
            done = after != -1 and poll > after
            rows.append(
                JobRow(id=job_id, status="done" if done else "queued", completions=1 if done else 0)
            )
        return rows

    def close(self) -> None:
        self.closed = True


class FakeQueue:
    def __init__(self, *, broken: bool = False):
        self.broken = broken
        self.closed = False

    def stats(self) -> QueueStats:
        if self.broken:
            raise InfraError("the queue at redis://x could not be read: timeout")
        return QueueStats(length=10, pending=2, lag=0)

    def close(self) -> None:
        self.closed = True


# --- LoadRunner / LoadProcess --------------------------------------------------------------
@dataclass
class LoadScript:
    """How a FakeLoad behaves, as a real Locust can: report fewer users than planned, exit
    by itself after a while (SIGKILLed: code -9), or exit without any history (its `wait`
    then raises the InfraError the real LoadProcess raises)."""

    users: int | None = None  # users it reports running (None: the planned number)
    dies_after_s: float | None = None  # stops running this long after its start
    exit_code: int = 0
    history: bool = True


class FakeLoad:
    """A load generator that starts at once and runs until the run stops it (or its script
    says it dies). `fail` (an exception) is raised by `progress()`, as the real one raises a
    crash."""

    def __init__(self, run_dir: Path, journal: Journal, fail: BaseException | None = None,
                 *, users: int = 1, script: LoadScript | None = None):  # fmt: skip
        self.run_dir = run_dir
        self.history_path = run_dir / "locust_stats_history.csv"
        self.journal = journal
        self.fail = fail
        self.script = script or LoadScript()
        self.users = self.script.users if self.script.users is not None else users
        self.started = time.monotonic()
        self.stopped = False
        self.waits: list[float] = []

    @property
    def running(self) -> bool:
        dies = self.script.dies_after_s
        died = dies is not None and time.monotonic() - self.started >= dies
        return not (self.stopped or died)

    def progress(self) -> Progress:
        if self.fail is not None:
            raise self.fail
        elapsed = time.monotonic() - self.started
        return Progress(elapsed_s=elapsed, users=self.users, rps=1.0, failures_pct=0.0,
                        p95_ms=10.0)  # fmt: skip

    def wait(self, timeout_s: float) -> int:
        self.waits.append(timeout_s)
        self.stopped = True
        if not self.script.history:
            raise InfraError(
                f"Locust (pid 0) exited with code {self.script.exit_code} before recording any"
                " traffic",
                hint=f"see {self.run_dir / 'locust.log'}",
            )
        return self.script.exit_code


class FakeLoadRunner:
    def __init__(self, journal: Journal, fail: BaseException | None = None,
                 script: LoadScript | None = None) -> None:  # fmt: skip
        self.journal = journal
        self.fail = fail
        self.script = script
        self.settings: LoadSettings | None = None
        self.started: FakeLoad | None = None

    @contextmanager
    def __call__(self, settings: LoadSettings, *, processes: int = 1) -> Iterator[FakeLoad]:
        self.settings = settings
        load = FakeLoad(Path(settings.run_dir), self.journal, self.fail, users=settings.users,
                        script=self.script)  # fmt: skip
        self.started = load
        load.history_path.write_text("")
        self.journal.append("load started")
        try:
            yield load
        finally:
            load.stopped = True
            self.journal.append("load stopped")


# --- FaultGauge, ScrapeTargets, StackProvider ------------------------------------------------
class FakeGauge:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.values: dict[int, float] = {}

    def start(self) -> str:
        self.journal.append("gauge started")
        return "127.0.0.1:9999"

    def set(self, index: int, fault: str, target: str, value: float) -> None:
        self.values[index] = value

    def stop(self) -> None:
        self.journal.append("gauge stopped")


class FakeScrape:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.sources: dict[str, str] = {}

    def add(self, source: str, address: str) -> None:
        self.sources[source] = address

    def remove_all(self) -> None:
        self.journal.append("scrape unregistered")
        self.sources.clear()


class FakeStack:
    """A StackProvider whose Target is made of the fakes above. `fail_acquire` (an exception)
    is raised by `acquire()`, as bring-up raises InfraError for a stack that is not healthy."""

    def __init__(self, *, prom: FakeProm | None = None, fail_acquire: Exception | None = None,
                 load_fail: BaseException | None = None,
                 load: LoadScript | None = None,
                 endpoints: Endpoints = ENDPOINTS) -> None:  # fmt: skip
        self.journal: Journal = []
        self.endpoints = endpoints
        self.links = FakeToxiproxy(self.journal)
        self.containers = FakeContainers(default_services(), journal=self.journal)
        self.prom = prom or FakeProm()
        self.shards = FakeShards({}, {})
        self.queue = FakeQueue()
        self.load = FakeLoadRunner(self.journal, load_fail, load)
        self.gauge = FakeGauge(self.journal)
        self.scrape = FakeScrape(self.journal)
        self.fail_acquire = fail_acquire

    def connect(self) -> None:
        self.journal.append("connected")

    def acquire(self) -> Target:
        if self.fail_acquire is not None:
            raise self.fail_acquire
        self.journal.append("stack acquired")
        return Target(
            name="fake",
            endpoints=self.endpoints,
            links=self.links,
            containers=self.containers,
            prometheus=self.prom,
            open_shards=lambda: self.shards,
            open_queue=lambda: self.queue,
            load=self.load,
            fault_gauge=self.gauge,
            scrape=lambda: self.scrape,
            loadgen_metrics="127.0.0.1:9998",
            describe={"name": "fake"},
            warm_up=self._warm_up,
        )

    def _warm_up(self) -> str:
        self.journal.append("warmed up")
        return "16 reads in 0.1 s (16 404)"

    def release(self) -> None:
        self.journal.append("stack released")

    def wait_healthy(self) -> None:
        self.journal.append("waited healthy")

    def save_logs(self, dest: Path, since: float) -> dict[str, list[str]]:
        self.journal.append("logs saved")
        return {}


# --- the Docker SDK client (for the stack adapters' own tests) -------------------------------
@dataclass
class FakeObj:
    """A container, network or volume: its name and labels, removable from its collection."""

    name: str
    labels: dict[str, str]
    registry: list[FakeObj]
    attrs: dict[str, Any] = field(default_factory=dict)
    started: bool = False

    def remove(self, **_: Any) -> None:
        self.registry.remove(self)

    def start(self) -> None:
        self.started = True

    def put_archive(self, path: str, data: bytes) -> bool:
        return True

    def reload(self) -> None:  # a network's: its attrs are already current here
        pass

    def disconnect(self, container: str, *, force: bool = False) -> None:
        self.attrs.get("Containers", {}).pop(container, None)

    def connect(self, container: FakeObj, *, aliases: list[str] | None = None) -> None:
        """A network's: one more container on it (Docker's create takes only one network)."""
        self.attrs.setdefault("Containers", {})[container.name] = {"Aliases": aliases or []}


def image_id(tag: str) -> str:
    """A fake engine's image id for a tag: `sha256:` and 64 hex digits, like Docker's."""
    return "sha256:" + hashlib.sha256(tag.encode()).hexdigest()


def _matches(obj: FakeObj, filters: dict[str, list[str]] | None) -> bool:
    for cond in (filters or {}).get("label", []):
        key, _, value = cond.partition("=")
        if key not in obj.labels or (value and obj.labels[key] != value):
            return False
    return True


class FakeCollection:
    """`client.containers`, `.networks` or `.volumes`: create, and list by label filter.
    `fail_create_after` items, create fails (as the lifecycle reports an engine refusal)."""

    def __init__(self, fail_create_after: int | None = None) -> None:
        self.items: list[FakeObj] = []
        self.fail_create_after = fail_create_after

    def create(
        self,
        *args: Any,
        name: str | None = None,
        labels: dict[str, str],
        network: str | None = None,
        environment: dict[str, str] | None = None,
        command: list[str] | None = None,
        ports: dict[str, tuple[str, int]] | None = None,
        healthcheck: dict[str, Any] | None = None,
        **_: Any,
    ) -> FakeObj:
        if self.fail_create_after is not None and len(self.items) >= self.fail_create_after:
            raise InfraError("engine said no")
        attrs: dict[str, Any] = {"Labels": labels}
        if network is not None:  # a container's: the one network it is created on
            attrs["HostConfig"] = {"NetworkMode": network}
        if ports is not None:  # a container's published ports, as the SDK was given them
            attrs.setdefault("HostConfig", {})["PortBindings"] = dict(ports)
        if environment is not None:  # a container's, as `docker inspect` shows it
            attrs["Config"] = {
                "Image": args[0],
                "Env": [f"{k}={v}" for k, v in environment.items()],
                "Cmd": command,
                "Entrypoint": None,
                "Labels": labels,
                **({"Healthcheck": healthcheck} if healthcheck is not None else {}),
            }
            attrs["Image"] = image_id(args[0])  # the id of the image it was created from
        obj = FakeObj(name=name or str(args[0]), labels=labels, registry=self.items, attrs=attrs)
        self.items.append(obj)
        return obj

    def get(self, name: str) -> FakeObj:
        """By name, or docker-py's NotFound."""
        for obj in self.items:
            if obj.name == name:
                return obj
        raise docker.errors.NotFound(f"no such object: {name}")

    def list(self, filters: dict[str, list[str]] | None = None, **_: Any) -> list[FakeObj]:
        return [o for o in self.items if _matches(o, filters)]


class FakeImage:
    def __init__(self, tag: str, ctx_hash: str) -> None:
        self.id = f"sha256:{tag}"
        self.labels = {stack_labels.CONTEXT_HASH: ctx_hash}


class FakeImages:
    def __init__(self) -> None:
        self.store: dict[str, FakeImage] = {}

    def get(self, tag: str) -> FakeImage:
        if tag not in self.store:
            raise docker.errors.ImageNotFound(tag)  # what docker-py raises
        return self.store[tag]


class FakeApi:
    """The low-level client: endpoint configs, and image builds streamed as docker-py does
    (a failed build is an `error` entry at the end of the stream, not an exception)."""

    def __init__(self, client: FakeDocker, fail_build: bool) -> None:
        self.client, self.fail_build, self.builds = client, fail_build, 0

    def create_endpoint_config(self, **kw: Any) -> dict[str, Any]:
        return kw

    def build(self, *, tag: str, labels: dict[str, str], **_: Any) -> list[dict[str, str]]:
        self.builds += 1
        if self.fail_build:
            steps = [
                {"stream": f"Step {i}/30 : RUN apt-get install thing-{i}\n"} for i in range(40)
            ]
            error = "The command '/bin/sh -c apt-get install nope' returned a non-zero code: 100"
            return [*steps, {"error": error}]
        self.client.images.store[tag] = FakeImage(tag, labels[stack_labels.CONTEXT_HASH])
        return [{"stream": "Successfully built\n"}]


class FakeDocker:
    """The Docker SDK client as the stack adapters use it."""

    def __init__(self, fail_create_after: int | None = None, *, fail_build: bool = False) -> None:
        self.containers = FakeCollection(fail_create_after)
        self.networks = FakeCollection()
        self.volumes = FakeCollection()
        self.images = FakeImages()
        self.api = FakeApi(self, fail_build)


# --- The stack's DNS server ----------------------------------------------------------------


class FakeDnsServer:
    """A tiny authoritative DNS server on 127.0.0.1, UDP and TCP on one port, in threads: it
    answers A queries by the query's EDNS Client Subnet (`answers`: subnet -> address), as
    the stack's server does, with `ttl`. `mode` (changeable while it runs): `answer`,
    `silent` (never answers: the client times out), `SERVFAIL`, `NXDOMAIN`, `empty` (NOERROR
    without an A record), `truncate` (UDP answers truncated: the client asks again over TCP).
    `seen` lists (transport, ECS subnet or None) of every query, in order. Every socket
    operation is bounded, and leaving the block stops the threads."""

    POLL_S = 0.05

    def __init__(self, answers: dict[str, str], *, ttl: int = 10, mode: str = "answer"):
        self.answers, self.ttl, self.mode = dict(answers), ttl, mode
        self.seen: list[tuple[str, str | None]] = []
        self.port = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    BIND_TRIES = 50

    def __enter__(self) -> FakeDnsServer:
        self._udp, self._tcp = self._bind_one_port_on_both()
        self._tcp.listen(8)
        for sock in (self._udp, self._tcp):
            sock.settimeout(self.POLL_S)
        for loop in (self._serve_udp, self._serve_tcp):
            thread = threading.Thread(target=loop, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _bind_one_port_on_both(self) -> tuple[socket.socket, socket.socket]:
        """A UDP and a TCP socket on one port. The kernel picks the TCP port, and the same
        UDP port may be taken (CI failed on this when UDP was picked first and TCP followed),
        so a taken pair is closed and another tried, a bounded number of times."""
        for _ in range(self.BIND_TRIES):
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            self.port = port
            return udp, tcp
        raise OSError(f"no port free on both UDP and TCP in {self.BIND_TRIES} tries")

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self._udp.close()
        self._tcp.close()

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._udp.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            response = self._respond(wire, "udp")
            if response is not None:
                self._udp.sendto(response, peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    size = int.from_bytes(conn.recv(2), "big")
                    response = self._respond(conn.recv(size), "tcp")
                    if response is not None:
                        conn.sendall(len(response).to_bytes(2, "big") + response)
                except OSError:
                    continue

    def _respond(self, wire: bytes, transport: str) -> bytes | None:
        query = dns.message.from_wire(wire)
        subnets = [
            f"{o.address}/{o.srclen}" for o in query.options if isinstance(o, dns.edns.ECSOption)
        ]
        subnet = subnets[0] if subnets else None
        self.seen.append((transport, subnet))
        mode = self.mode
        if mode == "silent":
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if mode in ("SERVFAIL", "NXDOMAIN"):
            response.set_rcode(dns.rcode.from_text(mode))
        elif mode == "truncate" and transport == "udp":
            response.flags |= dns.flags.TC
        elif mode != "empty" and subnet in self.answers:
            name = query.question[0].name
            rrset = dns.rrset.from_text(name, self.ttl, "IN", "A", self.answers[subnet])
            response.answer.append(rrset)
        return response.to_wire()
