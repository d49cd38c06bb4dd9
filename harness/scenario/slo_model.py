"""Service level objectives of a scenario: one objective, judged over one phase.

An SLO names a phase (`steady`, `fault`, `recovery` or `run`) and exactly one objective: a
built-in shorthand (error ratio, latency quantile, throughput, server-side errors and latency,
queue backlog, time to recover) that expands to PromQL, or its own `promql` with `max`/`min`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from harness.scenario.names import Region

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
    """Bounds on a client-side measure, for all users or those of one home `region`."""

    region: Region | None = Field(default=None, description="Only users of this home region.")


class TierBound(BaseModel):
    """A maximum for a server-side measure of one tier."""

    model_config = ConfigDict(extra="forbid")

    tier: Literal["router", "web", "shard"] = Field(description="The tier measured.")
    max: float = Field(description="The value must be at most this.")


class ErrorTierBound(TierBound):
    """A maximum for the server-side error ratio of the router or the web tier."""

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
        default=None, description="Seconds after the last fault until the queue backlog is empty."
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
        if given == ["promql"]:
            _need_a_bound(self.max, self.min)
        elif self.max is not None or self.min is not None:
            raise PydanticCustomError(
                "slo_bound_place",
                "max and min on the SLO itself only go with promql",
                {"hint": f"put them inside {given[0]}, e.g. {given[0]}: {{max: ...}}"},
            )
        return self
