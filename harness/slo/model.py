"""Service level objectives of a scenario: one objective, judged over one phase.

An SLO names a phase (`steady`, `fault`, `recovery` or `run`; `fault: N` narrows the last two to
one fault of several) and exactly one objective: one key of `harness.slo.objectives.OBJECTIVES`
(error ratio, latency quantile, throughput, server-side errors and latency, queue backlog,
time to recover: shorthands that expand to PromQL, or its own `promql` with `max`/`min`).

The model's objective keys are made from the registry, so a new objective kind is one module
of `harness/slo/objectives/` and nothing here changes. After validation `slo.kind` is the
objective's class and `slo.value` its value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model, model_validator
from pydantic_core import PydanticCustomError

from harness.fields import limits
from harness.slo.objectives import OBJECTIVES, Objective
from harness.slo.objectives._bounds import need_a_bound

Phase = Literal["steady", "fault", "recovery", "run"]


class SLOBase(BaseModel):
    """One objective, judged over the window of one phase of the run."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=limits.MAX_TEXT_CHARS,
        description="Shown in reports and CI output.",
    )
    phase: Phase = Field(description="The window the objective is judged over.")
    fault: int | None = Field(
        default=None,
        ge=0,
        lt=limits.MAX_FAULTS,
        description=(
            "With phase fault or recovery: only around faults[N] (0 = first). fault is while "
            "that fault is in place; recovery runs from its removal to the next fault's start "
            "or the end of the load."
        ),
    )
    _kind: type[Objective] = PrivateAttr()
    _value: Any = PrivateAttr()

    @property
    def window(self) -> str:
        """The name of the phase window judged: `fault`, or `fault[1]` around one fault."""
        return self.phase if self.fault is None else f"{self.phase}[{self.fault}]"

    @property
    def objective(self) -> str:
        """The key of the objective this SLO holds (`error_ratio`, ..., `promql`)."""
        return self._kind.key

    @property
    def kind(self) -> type[Objective]:
        """The objective's class: its PromQL, its bounds, how it is judged."""
        return self._kind

    @property
    def value(self) -> Any:
        """The objective's value: its bounds and selectors (for `promql`, the query)."""
        return self._value

    @model_validator(mode="after")
    def _exactly_one_objective(self) -> SLOBase:
        given = [key for key in OBJECTIVES if self.__dict__.get(key) is not None]
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
        self._kind, self._value = OBJECTIVES[given[0]], self.__dict__[given[0]]
        own_max, own_min = self.__dict__["max"], self.__dict__["min"]
        if self._kind.own_bounds:
            need_a_bound(own_max, own_min)
        elif own_max is not None or own_min is not None:
            raise PydanticCustomError(
                "slo_bound_place",
                "max and min on the SLO itself only go with promql",
                {"hint": f"put them inside {given[0]}, e.g. {given[0]}: {{max: ...}}"},
            )
        return self


def _fields() -> dict[str, Any]:
    """One optional key per objective kind, then the SLO's own `max` and `min` (for promql)."""
    fields: dict[str, Any] = {
        key: (
            kind.value | None,
            Field(default=None, description=kind.description, **kind.field_options),
        )
        for key, kind in OBJECTIVES.items()
    }
    own = [key for key, kind in OBJECTIVES.items() if kind.own_bounds]
    for bound, word in (("max", "at most"), ("min", "at least")):
        description = f"With {' or '.join(own)}: the result must be {word} this."
        fields[bound] = (
            float | None,
            Field(default=None, allow_inf_nan=False, description=description),
        )
    return fields


if TYPE_CHECKING:

    class SLO(SLOBase):
        max: float | None
        min: float | None

        def __getattr__(self, key: str) -> Any: ...  # the objective keys, made from OBJECTIVES

else:
    SLO = create_model("SLO", __base__=SLOBase, __module__=__name__, **_fields())
    SLO.__doc__ = SLOBase.__doc__
