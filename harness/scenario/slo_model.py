"""Service level objectives of a scenario: one objective, judged over one phase.

An SLO names a phase (`steady`, `fault`, `recovery` or `run`; `fault: N` narrows the last two to
one fault of several) and exactly one objective: a
built-in shorthand (error ratio, latency quantile, throughput, server-side errors and latency,
queue backlog, time to recover) that expands to PromQL, or its own `promql` with `max`/`min`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from harness.fields.names import Region
from harness.vocabulary import SHARD_COUNT, Request

Phase = Literal["steady", "fault", "recovery", "run"]


def _need_a_bound(max_: float | None, min_: float | None) -> None:
    if max_ is None and min_ is None:
        raise PydanticCustomError(
            "bound_missing", "give max, min or both", {"hint": "e.g. {max: 0.05}"}
        )


class Limit(BaseModel):
    """Bounds on a measured value: it must stay at or under `max` and at or over `min`."""

    model_config = ConfigDict(extra="forbid")

    max: float | None = Field(default=None, description="The value must be at most this.")
    min: float | None = Field(default=None, description="The value must be at least this.")

    @model_validator(mode="after")
    def _one_bound(self) -> Limit:
        _need_a_bound(self.max, self.min)
        return self


class Bound(Limit):
    """Bounds on a client-side measure: all requests, or those of one home `region` and/or one
    kind of `request`."""

    region: Region | None = Field(default=None, description="Only users of this home region.")
    request: Request | None = Field(
        default=None,
        description=(
            "Only this kind of request: create_user (POST /users), read_user (GET /users/{id}), "
            "submit_photo (POST /users/{id}/photos), read_job (GET /jobs/{id})."
        ),
    )


class TierBound(Limit):
    """Bounds on a server-side measure of one tier (for the shard tier: of one shard, if given)."""

    tier: Literal["router", "web", "shard"] = Field(description="The tier measured.")
    shard: int | None = Field(
        default=None,
        ge=0,
        lt=SHARD_COUNT,
        description="With tier shard: only queries to this shard (as the web tier times them).",
    )

    @model_validator(mode="after")
    def _shard_only_for_shards(self) -> TierBound:
        if self.shard is not None and self.tier != "shard":
            raise PydanticCustomError(
                "shard_needs_shard_tier",
                "shard only goes with tier: shard",
                {"hint": "use tier: shard, or drop shard"},
            )
        return self


class ErrorTierBound(TierBound):
    """Bounds on the server-side error ratio of the router or the web tier."""

    tier: Literal["router", "web"] = Field(description="The tier measured.")


class RecoverBound(BaseModel):
    """How long until the error ratio is back under `level` after a fault starts or ends."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    max: float = Field(ge=0, description="Seconds allowed to recover.")
    fault: int = Field(default=0, ge=0, description="Index of the fault in `faults` (0 = first).")
    from_: Literal["start", "end"] = Field(
        default="start", alias="from", description="Count from the fault's start or its end."
    )
    level: float = Field(
        default=0.01, ge=0, le=1, description="Error ratio that counts as recovered."
    )
    region: Region | None = Field(
        default=None, description="Only the error ratio of users of this home region."
    )


OBJECTIVES: tuple[str, ...] = (
    "error_ratio",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "throughput_min_rps",
    "server_error_ratio",
    "server_latency_p95_ms",
    "queue_backlog_max",
    "backlog_drained_within_s",
    "time_to_recover_s",
    "promql",
)


class SLO(BaseModel):
    """One objective, judged over the window of one phase of the run."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Shown in reports and CI output.")
    phase: Phase = Field(description="The window the objective is judged over.")
    fault: int | None = Field(
        default=None,
        ge=0,
        description=(
            "With phase fault or recovery: only around faults[N] (0 = first). fault is while "
            "that fault is in place; recovery runs from its removal to the next fault's start "
            "or the end of the load."
        ),
    )
    error_ratio: Bound | None = Field(default=None, description="Failed / all client requests.")
    latency_p50_ms: Bound | None = Field(
        default=None, description="Client-side median latency, ms."
    )
    latency_p95_ms: Bound | None = Field(default=None, description="Client-side p95 latency, ms.")
    latency_p99_ms: Bound | None = Field(default=None, description="Client-side p99 latency, ms.")
    throughput_min_rps: Bound | None = Field(
        default=None, description="Client requests per second."
    )
    server_error_ratio: ErrorTierBound | None = Field(
        default=None, description="5xx ratio of a tier."
    )
    server_latency_p95_ms: TierBound | None = Field(
        default=None, description="p95 latency of a tier."
    )
    queue_backlog_max: Limit | None = Field(default=None, description="Jobs waiting in the queue.")
    backlog_drained_within_s: Limit | None = Field(
        default=None,
        description=(
            "Seconds after the last fault (with `fault: N`, after faults[N]) until the queue "
            "backlog is empty."
        ),
    )
    time_to_recover_s: RecoverBound | None = Field(
        default=None, description="Seconds until the error ratio is back under a level."
    )
    promql: str | None = Field(
        default=None,
        min_length=1,
        description="Your own PromQL; `$window` is replaced by the phase's length (e.g. 30s).",
    )
    max: float | None = Field(
        default=None, description="With promql: the result must be at most this."
    )
    min: float | None = Field(
        default=None, description="With promql: the result must be at least this."
    )

    @property
    def window(self) -> str:
        """The name of the phase window judged: `fault`, or `fault[1]` around one fault."""
        return self.phase if self.fault is None else f"{self.phase}[{self.fault}]"

    @property
    def objective(self) -> str:
        """The key of the objective this SLO holds (`error_ratio`, ..., `promql`)."""
        return next(key for key in OBJECTIVES if getattr(self, key) is not None)

    @model_validator(mode="after")
    def _exactly_one_objective(self) -> SLO:
        given = [key for key in OBJECTIVES if getattr(self, key) is not None]
        if len(given) != 1:
            found = "no objective" if not given else "objectives " + ", ".join(given)
            raise PydanticCustomError(
                "slo_objective",
                "an SLO needs exactly one objective, found {found}",
                {"found": found, "hint": "valid objectives: " + ", ".join(OBJECTIVES)},
            )
        if self.fault is not None and self.phase not in ("fault", "recovery"):
            raise PydanticCustomError(
                "slo_fault_phase",
                "fault only narrows the fault and recovery phases, not {phase}",
                {"phase": self.phase, "hint": "use phase: fault or phase: recovery, or drop fault"},
            )
        if given == ["promql"]:
            _need_a_bound(self.max, self.min)
        elif self.max is not None or self.min is not None:
            raise PydanticCustomError(
                "slo_bound_place",
                "max and min on the SLO itself only go with promql",
                {"hint": f"put them inside {given[0]}, e.g. {given[0]}: {{max: ...}}"},
            )
        return self
