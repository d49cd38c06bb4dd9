"""The Target: everything a run talks to, in one object built by a StackProvider.

A run never builds a client: it receives a StackProvider, whose `acquire()` hands back a
Target holding the system's endpoints and the adapters behind the ports of `harness.ports`.
For the bundled stack `harness.run.compose` builds it from the real adapters; a unit test
builds one from the fakes of tests/fakes.py; a user's own system can later be described in a
file and turned into a Target the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.ports import (
    ContainerControl,
    FaultGauge,
    LinkControl,
    LoadRunner,
    PromQuery,
    QueueSource,
    ScrapeTargets,
    ShardSource,
)
from harness.stack.endpoints import Endpoints


@dataclass(frozen=True, kw_only=True)
class Target:
    """What a run talks to: where the system answers, and the adapters that act on it."""

    name: str  # the stack's name, for messages
    endpoints: Endpoints
    links: LinkControl  # the network links faults cut and slow
    containers: ContainerControl[Any]  # the containers faults kill, stop and pause
    prometheus: PromQuery  # what the SLOs and charts are read from
    open_shards: Callable[[], ShardSource]  # opened for the invariant checks, then closed
    open_queue: Callable[[], QueueSource]
    load: LoadRunner  # starts the load generator
    fault_gauge: FaultGauge  # the harness's fault-window metric, served for Prometheus
    scrape: Callable[[], ScrapeTargets]  # registers host-side endpoints with Prometheus
    loadgen_metrics: str  # host:port where the load generator serves its metrics
    describe: dict[str, Any] = field(default_factory=dict)  # for RunRecord.stack
    # The request ids the system's entries logged since a time: which writes reached it. None
    # when the system cannot tell (its unanswered writes then all stay unknown).
    reached_requests: Callable[[float], frozenset[str]] | None = None
    # Prepares the system for the load (fills its connection pools) and says what it did in
    # one line; None when the system needs nothing. Never judged: the run's checks judge.
    warm_up: Callable[[], str] | None = None
