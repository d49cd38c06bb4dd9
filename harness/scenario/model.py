"""The scenario file as pydantic models: what to run, what to break, and what must hold.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored line.
`harness.scenario.loader` turns validation errors into `FILE:LINE: field: message` lines;
`harness.plan` turns a valid Scenario into its Timeline.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness.faults import FaultSpec, fault_union
from harness.faults.spec import ServiceSpec
from harness.fields import limits
from harness.fields.durations import Duration
from harness.fields.names import Region, unknown_name
from harness.scenario.problems import Problem
from harness.scenario.slo_model import SLO
from harness.vocabulary import (
    DEFAULT_DNS_CHECK_INTERVAL_S,
    DEFAULT_DNS_TTL_S,
    DEFAULT_WAN_LATENCY_MS,
    REGIONAL_TIERS,
    REGIONS,
    SHARD_COUNT,
    SINGLE_SERVICES,
    Invariant,
    Task,
    entry_service,
    instance_names,
    queue_service,
    shard_node,
    tier_service,
)

if TYPE_CHECKING:
    AnyFault = FaultSpec
else:
    AnyFault = fault_union()

Bug = Literal[
    "failover_off",
    "ack_before_persist",
    "no_reclaim",
    "ack_before_commit",
    "shared_db_pool",
    "slow_workers",
    "async_replication",
    "stale_reads",
    "no_fencing",
    "sticky_primary",
    "delayed_standby",
    "dns_static",
]
LoadModel = Literal["closed", "open"]
MAX_RATE = 10_000.0  # iterations/s: far beyond what one machine's Locust sends; catches typos
MAX_IN_FLIGHT = 10_000  # each one may hold a connection (file descriptor) of its own

__all__ = [
    "SLO",
    "Load",
    "LoadDns",
    "Scenario",
    "StackOverrides",
    "service_instances",
    "service_names",
]


def _default_tasks() -> dict[Task, int]:
    return {"read_user": 6, "create_user": 1, "submit_photo": 3}


def _default_stack() -> StackOverrides:
    return StackOverrides()


class StackOverrides(BaseModel):
    """Changes to the bundled stack for this scenario."""

    model_config = ConfigDict(extra="forbid")

    web_replicas: int = Field(default=1, ge=1, le=4, description="Web containers per region.")
    workers_per_region: int = Field(default=2, ge=1, le=8, description="Queue workers per region.")
    bugs: list[Bug] = Field(
        default_factory=list,
        description="Seeded bugs, to show that the gate fails on a broken stack.",
    )
    wan_latency_ms: int = Field(
        default=DEFAULT_WAN_LATENCY_MS,
        ge=0,
        le=1000,
        description="One-way latency between the regions, all run long (default: the US coasts).",
    )
    replication: Literal["sync", "async"] = Field(
        default="sync",
        description="sync: a write is acknowledged once both regions have it; async: once its "
        "primary has it (faster writes, and a failover may lose the latest).",
    )
    primaries: Literal["spread", "us-east", "us-west"] = Field(
        default="spread",
        description="Where each shard's primary starts: spread over both regions, or in one.",
    )
    dns_ttl_s: int = Field(
        default=DEFAULT_DNS_TTL_S,
        ge=1,
        le=3600,
        description="TTL of the DNS answer that sends users to a region (clients cache it).",
    )
    dns_check_interval_s: int = Field(
        default=DEFAULT_DNS_CHECK_INTERVAL_S,
        ge=1,
        le=60,
        description="How often the DNS server checks each region's entry.",
    )


def _default_dns() -> LoadDns:
    return LoadDns()


class LoadDns(BaseModel):
    """How the simulated users resolve the service by name through the stack's geo DNS (each
    asks with its home region's client subnet and caches the answer for its TTL)."""

    model_config = ConfigDict(extra="forbid")

    stale_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of each region's users (0..1) that ignore DNS TTLs and keep every"
        " answer for `stale_keep`, as clients and resolvers that cache too long do; which"
        " users follows the seed.",
    )
    stale_keep: Annotated[Duration, Field(gt=0, le=limits.MAX_DURATION_S)] = Field(
        default=60.0,
        description="How long those users keep an answer, whatever its TTL (default 1m).",
    )

    @field_validator("stale_share", mode="before")
    @classmethod
    def _a_share(cls, value: object) -> object:
        # Before pydantic's own bounds, to say what a share is: 30 is likely meant as 30 %.
        if isinstance(value, int | float) and not isinstance(value, bool) and not 0 <= value <= 1:
            raise PydanticCustomError(
                "share_range",
                "a share of users must be between 0 and 1",
                {"hint": "0.3 means 30 % of each region's users (stale_share: 0.3)"},
            )
        return value

    @model_validator(mode="after")
    def _keep_needs_stale_users(self) -> LoadDns:
        if "stale_keep" in self.model_fields_set and self.stale_share == 0:
            raise PydanticCustomError(
                "stale_keep_unused",
                "stale_keep applies to the users that ignore TTLs, and stale_share is 0",
                {"hint": "add stale_share: 0.3, or remove stale_keep"},
            )
        return self


class Load(BaseModel):
    """The simulated users: how many, from where, doing what, for how long."""

    model_config = ConfigDict(extra="forbid")

    users: int = Field(gt=0, le=limits.MAX_USERS, description="Concurrent simulated users.")
    spawn_rate: float = Field(
        gt=0, le=limits.MAX_SPAWN_RATE, description="Users started per second until all run."
    )
    duration: Annotated[Duration, Field(gt=0, le=limits.MAX_DURATION_S)] = Field(
        description="How long the load runs (e.g. 3m); every phase lies within it."
    )
    geography: dict[Region, Annotated[int, Field(ge=0, le=100)]] = Field(
        description="Percent of users by home region; must add up to 100."
    )
    tasks: dict[Task, Annotated[int, Field(ge=0, le=limits.MAX_TASK_WEIGHT)]] = Field(
        default_factory=_default_tasks,
        description="Relative weights of what users do; at least one above 0.",
    )
    seed: int = Field(
        default=1,
        ge=0,
        le=limits.MAX_SEED,
        description="Seed for home regions and choices: same seed, same run.",
    )
    model: LoadModel = Field(
        default="closed",
        description="closed: `users` loop, each sending its next request when the last is"
        " answered. open: `rate` iterations per second whatever the answers, latency timed"
        " from when each was due (free of coordinated omission); `users` and `spawn_rate`"
        " are then unused.",
    )
    rate: float | None = Field(
        default=None,
        gt=0,
        le=MAX_RATE,
        description="Open model: iterations per second (each one task, its home region drawn"
        " by `geography`), split over the load processes.",
    )
    max_in_flight: int | None = Field(
        default=None,
        ge=1,
        le=MAX_IN_FLIGHT,
        description="Open model: iterations running at once at most; one due while that many"
        " run is dropped and counted as a failed request. Default: rate x request_timeout,"
        " enough to ride out a stall as long as the timeout without dropping.",
    )
    request_timeout: Annotated[Duration, Field(ge=0.1, le=60)] = Field(
        default=5.0,
        description="Every request gives up after this long (0.1s..60s); a timed-out or"
        " slower answer is a failed request.",
    )
    dns: LoadDns = Field(
        default_factory=_default_dns,
        description="How users resolve the service through the stack's geo DNS server.",
    )

    @field_validator("geography")
    @classmethod
    def _adds_up_to_100(cls, value: dict[str, int]) -> dict[str, int]:
        total = sum(value.values())
        if total != 100:
            shares = " + ".join(f"{region} {pct}" for region, pct in value.items()) or "nothing"
            raise PydanticCustomError(
                "geography_sum",
                "percentages add up to {total}, not 100",
                {"total": total, "hint": f"{shares} = {total}; regions: {', '.join(REGIONS)}"},
            )
        return value

    @field_validator("tasks")
    @classmethod
    def _some_task(cls, value: dict[str, int]) -> dict[str, int]:
        if not any(value.values()):
            raise PydanticCustomError(
                "no_task", "at least one task needs a weight above 0", {"hint": "read_user: 1"}
            )
        return value

    @field_validator("rate", "max_in_flight")
    @classmethod
    def _open_only(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("model", "closed") == "closed":
            raise PydanticCustomError(
                "open_model_only",
                "{field} is a setting of the open model",
                {"field": info.field_name, "hint": "add `model: open`, or remove it"},
            )
        return value

    @model_validator(mode="after")
    def _open_has_rate(self) -> Load:
        if self.model == "open" and self.rate is None:
            raise PydanticCustomError(
                "open_model_rate",
                "the open model needs a rate (iterations per second)",
                {"hint": "rate: 50"},
            )
        return self

    def in_flight_limit(self) -> int:
        """max_in_flight as given, else rate x request_timeout (bounded by MAX_IN_FLIGHT)."""
        if self.max_in_flight is not None:
            return self.max_in_flight
        return max(1, min(MAX_IN_FLIGHT, math.ceil((self.rate or 0) * self.request_timeout)))


class Scenario(BaseModel):
    """A scenario file: the stack, the load, the faults on schedule, and what must hold."""

    model_config = ConfigDict(extra="forbid", title="Chaos Harness scenario")

    name: str = Field(
        min_length=1,
        max_length=limits.MAX_NAME_CHARS,
        description="Short name; used in report directory names.",
    )
    description: str = Field(
        default="",
        max_length=limits.MAX_TEXT_CHARS,
        description="What the scenario shows, for the report.",
    )
    stack: StackOverrides = Field(
        default_factory=_default_stack, description="Changes to the bundled stack."
    )
    load: Load = Field(description="The simulated users.")
    faults: list[AnyFault] = Field(
        default_factory=list,
        max_length=limits.MAX_FAULTS,
        description="Faults, each applied at `at` for `duration`.",
    )
    slos: list[SLO] = Field(
        default_factory=list, max_length=limits.MAX_SLOS, description="Objectives judged per phase."
    )
    invariants: list[Invariant] = Field(
        default_factory=list, description="Data checks: acknowledged writes and jobs not lost."
    )

    @field_validator("faults")
    @classmethod
    def _services_exist(cls, faults: list[FaultSpec], info: ValidationInfo) -> list[FaultSpec]:
        stack = info.data.get("stack")  # absent when the stack section itself is invalid
        problems = service_problems(faults, stack) if stack is not None else []
        if problems:
            raise PydanticCustomError(
                "scenario_checks",
                "{summary}",
                {"summary": "; ".join(f"{m} ({h})" for _, m, h in problems), "problems": problems},
            )
        return faults


def service_names(stack: StackOverrides) -> list[str]:
    """Every service and instance name a container fault may target, given the overrides.

    A service name (`web-us-east`) means all its replicas; `web-us-east-2` means one.
    """
    names = [*SINGLE_SERVICES, *(entry_service(r) for r in REGIONS)]
    names += [queue_service(r) for r in REGIONS]
    names += [shard_node(n, r) for n in range(SHARD_COUNT) for r in REGIONS]
    for tier, count in zip(
        REGIONAL_TIERS, (stack.web_replicas, stack.workers_per_region), strict=True
    ):
        for region in REGIONS:
            names += [tier_service(tier, region), *instance_names(tier, region, count)]
    return names


def service_instances(service: str, stack: StackOverrides) -> list[str]:
    """The concrete names `service` covers: its replicas for a group name, itself otherwise."""
    groups = {tier_service(tier, region) for tier in REGIONAL_TIERS for region in REGIONS}
    if service not in groups:
        return [service]
    return [name for name in service_names(stack) if name.startswith(service + "-")]


def service_problems(faults: list[FaultSpec], stack: StackOverrides) -> list[Problem]:
    """Container faults naming a service the stack does not have: (path, message, hint)."""
    valid = service_names(stack)
    problems: list[Problem] = []
    for index, fault in enumerate(faults):
        if isinstance(fault, ServiceSpec) and fault.service not in valid:
            err = unknown_name("service", fault.service, valid)
            hint = (err.context or {}).get("hint", "")
            problems.append(Problem(("faults", index, "service"), err.message(), hint))
    return problems
