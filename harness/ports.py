"""The seams a run talks through, as Protocols: what the pure core and the orchestrator need
from the outside world, not how it is done.

    port              needed by                   implemented by (adapter, under harness/)
    LinkControl       fault kinds, safety reset   faults/toxiproxy_client.py ToxiproxyClient
    ContainerControl  fault kinds, safety reset   faults/containers.py DockerContainers
    PromQuery         SLO judge, chart series     slo/prometheus.py PrometheusClient
    ShardSource       invariant checks            invariants/shards.py ShardReader
    QueueSource       invariant checks            invariants/queue.py QueueReader
    LoadRunner        the run's load window       load/runner.py start_load
    LoadProcess       the run's load window       load/runner.py LoadProcess
    FaultGauge        fault windows as a metric   run/exporter.py FaultExporter
    ScrapeTargets     metrics registration        run/registration.py ScrapeRegistration
    StackProvider     stack up, down, logs        run/compose.py BundledStack

Every adapter raises `harness.errors.InfraError` for a failure of the outside world (never
returns None for one); the shared fakes in tests/fakes.py do the same. This module imports no
adapter and no third-party client, so the pure core may depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from harness.load.progress import Progress
from harness.load.settings import LoadSettings
from harness.record import Series

if TYPE_CHECKING:
    from harness.target import Target

__all__ = [
    "ContainerControl",
    "FaultGauge",
    "JobRow",
    "LinkControl",
    "LoadProcess",
    "LoadRunner",
    "PromQuery",
    "QueueSource",
    "QueueStats",
    "Sample",
    "ScrapeTargets",
    "ShardSource",
    "StackProvider",
]

H = TypeVar("H")  # a container handle, as the control's own `instances()` returns it

Sample = tuple[dict[str, str], float]  # one series of an instant vector: labels, value


# --- what the ports exchange -------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class JobRow:
    """A job as its shard holds it."""

    id: str
    status: str
    completions: int


@dataclass(frozen=True, kw_only=True)
class QueueStats:
    """The photo queue as Redis holds it, for the no_lost_jobs detail."""

    length: int  # entries in the stream
    pending: int  # delivered to a consumer, not acknowledged
    lag: int | None  # not yet delivered to the group (None: Redis could not tell)

    def describe(self) -> str:
        lag = "unknown" if self.lag is None else str(self.lag)
        return f"queue: {self.length} entries, {self.pending} pending (unacked), lag {lag}"


# --- the ports -----------------------------------------------------------------------------
class PromQuery(Protocol):
    """Instant and range PromQL queries. Every failure raises `InfraError` (never returns
    None); an empty list means Prometheus answered with no data."""

    def instant(self, promql: str, at: float) -> list[Sample]: ...

    def range(self, promql: str, start: float, end: float, step_s: float = 1.0) -> list[Series]: ...


class LinkControl(Protocol):
    """The network links between the stack's parts (Toxiproxy proxies), by link name."""

    def set_enabled(self, name: str, enabled: bool) -> None: ...

    def add_toxic(
        self,
        proxy_name: str,
        *,
        name: str,
        type: str,
        attributes: dict[str, Any],
        stream: str = "downstream",
        toxicity: float = 1.0,
    ) -> None: ...

    def remove_toxic(self, proxy_name: str, name: str) -> None:
        """Idempotent: a toxic that is already gone is fine."""

    def reset(self) -> None:
        """Every link enabled, every toxic removed: the safety net at start and end."""


class ContainerControl(Protocol[H]):
    """The stack's containers, by service (`worker-us-east`) or instance (`worker-us-east-2`).

    `instances` raises InfraError for a name the stack does not have; the other calls take a
    handle `instances` returned."""

    def instances(self, target: str) -> list[H]: ...
    def kill(self, container: H) -> None: ...
    def stop(self, container: H) -> None: ...
    def start(self, container: H) -> None: ...
    def pause(self, container: H) -> None: ...
    def unpause(self, container: H) -> None: ...

    def wait_worker_busy(self, container: H, timeout_s: float) -> bool:
        """Wait until a worker takes its next job; True when it holds one."""

    def heal_all(self) -> list[str]:
        """Start or unpause every container that is not running; the names brought back."""


class ShardSource(Protocol):
    """Read access to the shards, by index."""

    @property
    def count(self) -> int: ...
    def users_present(self, shard: int, ids: Sequence[int]) -> set[int]: ...
    def job_rows(self, shard: int, ids: Sequence[str]) -> list[JobRow]: ...
    def close(self) -> None: ...


class QueueSource(Protocol):
    """Read access to the photo queue's stream and consumer group."""

    def stats(self) -> QueueStats: ...
    def close(self) -> None: ...


class LoadProcess(Protocol):
    """A running load generator (a context manager: leaving it stops the load for sure)."""

    @property
    def history_path(self) -> Path: ...  # exists once the load has started
    @property
    def run_dir(self) -> Path: ...
    @property
    def running(self) -> bool: ...

    def progress(self) -> Progress:
        """The figures so far; raises InfraError (with the log tail) if the load crashed."""

    def wait(self, timeout_s: float) -> int: ...


class LoadRunner(Protocol):
    """Starts the load generator on `settings`."""

    def __call__(
        self, settings: LoadSettings, *, processes: int = 1
    ) -> AbstractContextManager[LoadProcess]: ...


class FaultGauge(Protocol):
    """The harness's own metric of fault windows, served for the stack's Prometheus."""

    def start(self) -> str:
        """Start serving; the `host:port` address Prometheus should scrape."""

    def set(self, index: int, fault: str, target: str, value: float) -> None: ...
    def stop(self) -> None: ...


class ScrapeTargets(Protocol):
    """Tells the stack's Prometheus about host-side endpoints for the length of a run."""

    def add(self, source: str, address: str) -> None: ...
    def remove_all(self) -> None: ...


class StackProvider(Protocol):
    """Where the system under test comes from: the bundled stack (brought up or reused) or,
    later, a user's own system described in a file.

    `connect` reaches the engine; `acquire` makes the system ready and returns the Target the
    run talks to; `release` undoes what `acquire` started (nothing for a reused stack)."""

    def connect(self) -> None: ...
    def acquire(self) -> Target: ...
    def release(self) -> None: ...

    def wait_healthy(self) -> None:
        """Block until every service is healthy again (after the safety net started some)."""

    def save_logs(self, dest: Path, since: float) -> dict[str, list[str]]:
        """Write each container's log under `dest`; the error lines found, by container."""
