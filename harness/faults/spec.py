"""What every fault entry of a scenario holds, and the registry of fault kinds by type name.

A fault kind is one module of `harness.faults.kinds` holding its spec model, decorated with
`@register_spec` (the spec's `type` literal is its name in scenario files) and carrying its
own `inject(ctx)`: the class is the one registration. `harness.faults` imports every module of
`kinds`, so `SPECS` is complete once the package is imported, and the scenario's
discriminated union of faults is built from it (`fault_union()`).

`targets()` names what a fault touches, as `kind:name` strings (`link:edge-us-east`,
`service:worker-us-east`, `region:us-east`, `load:celebrities`); the planner rejects two faults
that overlap in time and share a target.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union, get_args

from pydantic import BaseModel, ConfigDict, Field

from harness.fields import limits
from harness.fields.durations import Duration
from harness.fields.names import LinkName
from harness.vocabulary import REGIONAL_TIERS, REGIONS, SHARD_COUNT, SINGLE_SERVICES

if TYPE_CHECKING:
    from harness.faults.runtime import FaultContext

SPECS: dict[str, type[FaultSpec]] = {}
"""Every fault kind: its `type` name -> its spec model. Filled by `@register_spec`."""

Stream = Literal["downstream", "upstream"]

_REGION = f"({'|'.join(REGIONS)})"
_SERVICE_PATTERN = (
    rf"^({'|'.join(SINGLE_SERVICES)}|entry-{_REGION}|queue-{_REGION}"
    rf"|shard-[0-{SHARD_COUNT - 1}]-{_REGION}"
    rf"|({'|'.join(REGIONAL_TIERS)})-{_REGION}(-[1-9][0-9]*)?)$"
)

S = TypeVar("S", bound="FaultSpec")


def _type_required(schema: dict[str, Any]) -> None:
    # `type` has a default so specs can be built in code without it; files must give it.
    schema["required"] = ["type", *schema.get("required", [])]


class FaultSpec(BaseModel):
    """A fault applied `at` an offset from the start of the load and removed `duration` later."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_type_required)

    type: str = Field(description="The fault kind.")
    at: Annotated[Duration, Field(ge=0, le=limits.MAX_DURATION_S)] = Field(
        description="When the fault is applied, from the start of the load (e.g. 30s)."
    )
    duration: Annotated[Duration, Field(gt=0, le=limits.MAX_DURATION_S)] = Field(
        description="How long the fault stays before it is removed (e.g. 1m)."
    )

    @property
    def end(self) -> float:
        """Seconds from the start of the load at which the fault is removed."""
        return self.at + self.duration

    def targets(self) -> tuple[str, ...]:
        """What the fault touches (`link:...`, `service:...`, `region:...`), for overlap checks."""
        return ()

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        """The context manager that applies this fault through `ctx` and removes it on exit."""
        raise NotImplementedError(f"fault type {self.type!r} has no inject()")


class LinkSpec(FaultSpec):
    """A fault on one Toxiproxy link (`edge-<region>`, `queue-<region>`, `shard<N>-<region>`)."""

    link: LinkName = Field(description="The Toxiproxy link the fault acts on.")

    def targets(self) -> tuple[str, ...]:
        return (f"link:{self.link}",)


class ToxicSpec(LinkSpec):
    """A Toxiproxy toxic on one link; `stream` and `toxicity` are Toxiproxy's own fields."""

    stream: Stream = Field(
        default="downstream",
        description="Which direction the toxic acts on: downstream (answers) or upstream.",
    )
    toxicity: float = Field(
        default=1.0, ge=0, le=1, description="The fraction of connections the toxic applies to."
    )


class ServiceSpec(FaultSpec):
    """A fault on the containers of one service (`worker-us-east`) or one instance of it."""

    service: str = Field(
        description=(
            "A service of the stack (dns, toxiproxy, prometheus, witness, entry-<region>, "
            "queue-<region>, shard-N-<region>, web-<region>, worker-<region>) or one instance "
            "(web-<region>-N, worker-<region>-N)."
        ),
        json_schema_extra={"pattern": _SERVICE_PATTERN},
    )

    def targets(self) -> tuple[str, ...]:
        return (f"service:{self.service}",)


def spec_type(cls: type[FaultSpec]) -> str:
    """The `type` name of a fault kind (the value of its `type` literal)."""
    (name,) = get_args(cls.model_fields["type"].annotation)
    return str(name)


def register_spec(cls: type[S]) -> type[S]:
    """Class decorator: make a fault kind known by its `type` name."""
    name = spec_type(cls)
    if name in SPECS:
        raise ValueError(f"fault type {name!r} registered twice")
    SPECS[name] = cls
    return cls


def fault_union() -> Any:
    """The discriminated union of every registered fault kind (for `Scenario.faults`)."""
    kinds = tuple(SPECS.values())
    return Annotated[Union[kinds], Field(discriminator="type")]  # noqa: UP007
