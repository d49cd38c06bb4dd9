"""The RunRecord: everything a run did and found, saved as results.json.

It is the single source of every rendering (report.html, junit.xml, the index, the terminal
summary of harness.report.summary): renderers are pure functions of it, so `harness report
RUN_DIR` can redraw a run long after the stack is gone. Times are Unix seconds (float);
offsets are seconds from the load's start.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RECORD_VERSION = 1

StepStatus = Literal["ok", "failed", "skipped", "interrupted"]
SloSource = Literal["prometheus", "ledger"]
Verdict = Literal["pass", "fail", "error"]
RunStatus = Literal["running", "passed", "failed", "error", "interrupted"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Step(_Model):
    """One stage of the run (validate, images, stack up, load, fault 0, judge, ...)."""

    name: str
    started_at: float
    ended_at: float | None = None
    status: StepStatus = "ok"
    error: str | None = None


class Event(_Model):
    """Something that happened to the stack, for the report's event list and chart marks."""

    t: float
    kind: str  # fault_applied, fault_removed, container_killed, container_started, ...
    message: str
    fault: int | None = None


# never_ran: still pending when the run stopped (the load died, Ctrl-C): it was neither
# applied nor "applied and removed at once".
FaultStatus = Literal[
    "pending", "applying", "applied", "removing", "removed", "failed", "never_ran"
]
IN_EFFECT: tuple[FaultStatus, ...] = ("applying", "applied", "removing")


class FaultRecord(_Model):
    """A fault as it really happened. Its window (phases, SLO windows, charts, the fault
    gauge) runs from the first change it made to the stack to the end of its removal: an
    apply step that stops three containers one by one is in effect from the first, and the
    fault is not gone until its last link is enabled and its last container started."""

    index: int
    type: str
    target: str  # what it touched, for humans: "us-east", "shard2-us-east", "worker-us-east-1"
    planned_start_s: float
    planned_end_s: float
    first_effect_at: float | None = None  # right before the first change: the window opens
    applied_at: float | None = None  # the whole apply step done
    removal_started_at: float | None = None  # the removal began
    removed_at: float | None = None  # the removal done: the window closes
    status: FaultStatus = "pending"
    # How late the harness began applying it, against the plan (the run guard's measure).
    late_s: float | None = None
    error: str | None = None
    effects: dict[str, int] = Field(default_factory=dict)  # what it changed, e.g. container_killed

    @property
    def window_start(self) -> float | None:
        """Where the fault's window opens: its first effect, or `applied_at` for a fault that
        changed nothing through the ports (a load-side hotspot) or a record from before
        first effects were stamped. None: never (fully) applied."""
        if self.applied_at is None:
            return None
        return self.applied_at if self.first_effect_at is None else self.first_effect_at

    @property
    def in_effect(self) -> bool:
        return self.status in IN_EFFECT


class PhaseWindow(_Model):
    name: str
    start: float
    end: float


class SloResult(_Model):
    name: str
    phase: str
    objective: str  # the shorthand or "promql"
    # The query as sent, with $window already expanded; for an objective read from the ledger
    # (`source`), what it reads, in words ("ledger: ...").
    promql: str
    source: SloSource = "prometheus"
    window_start: float | None = None
    window_end: float | None = None
    observed: float | None = None
    max: float | None = None
    min: float | None = None
    verdict: Verdict
    error: str | None = None
    # How the measure got its value, where it is a story (time_to_recover_s: when errors began,
    # peaked and ended after the fault's start): the report shows it beside the verdict.
    detail: str | None = None


class InvariantResult(_Model):
    name: str
    verdict: Verdict
    acknowledged: int = 0
    found: int = 0
    lost: int = 0
    duplicated: int = 0
    # Outcomes nobody saw (no answer, a timeout, a 5xx), counted apart from `lost`; more than
    # `unknown_tolerated` of them fail the invariant (None: not judged, e.g. an error).
    unknown: int = 0
    unknown_tolerated: int | None = None
    detail: str = ""
    lost_examples: list[str] = Field(default_factory=list)
    # no_lost_writes, when acknowledged users are lost: the RPO, the seconds from the first
    # to the last lost write's commit (or acknowledgement), and how many were lost per shard.
    lost_span_s: float | None = None
    lost_by_shard: dict[int, int] = Field(default_factory=dict)


class Series(_Model):
    """One line of a chart: Prometheus range data, points as [unix time, value].

    A value is None where Prometheus answered NaN (0/0, e.g. an error ratio without traffic):
    JSON has no NaN, and the chart shows a gap there."""

    labels: dict[str, str]
    points: list[tuple[float, float | None]]


class RunRecord(_Model):
    version: int = RECORD_VERSION
    run_id: str
    harness_version: str
    scenario_name: str
    scenario_file: str
    scenario: dict[str, Any]
    seed: int
    status: RunStatus = "running"
    exit_code: int | None = None
    started_at: float = Field(default_factory=time.time)
    ended_at: float | None = None
    load_started_at: float | None = None
    load_ended_at: float | None = None
    stack: dict[str, Any] = Field(default_factory=dict)  # name, reused, endpoints, image ids
    phases: list[PhaseWindow] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    faults: list[FaultRecord] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    slos: list[SloResult] = Field(default_factory=list)
    invariants: list[InvariantResult] = Field(default_factory=list)
    load_summary: dict[str, Any] = Field(default_factory=dict)
    series: dict[str, list[Series]] = Field(default_factory=dict)  # chart name -> lines
    log_errors: dict[str, list[str]] = Field(default_factory=dict)  # container -> error lines
    error: str | None = None  # the infrastructure error that ended the run, if any
    # How the run left its plan (load generator died or fell short, a fault late): set, the
    # run is not judged (no SLO or invariant result) and exits 3.
    deviation: str | None = None
    # What a failing heal or removal left behind ("links reset failed: ..."): set, the exit is 3
    # whatever the checks said, and the verdict is overridden.
    left_broken: list[str] = Field(default_factory=list)

    def phase(self, name: str) -> PhaseWindow | None:
        return next((p for p in self.phases if p.name == name), None)


def save_record(record: RunRecord, run_dir: Path) -> Path:
    path = run_dir / "results.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(record.model_dump_json(indent=2))
    tmp.replace(path)  # atomic: a reader never sees half a record
    return path


def load_record(run_dir: Path) -> RunRecord:
    return RunRecord.model_validate_json((run_dir / "results.json").read_text())
