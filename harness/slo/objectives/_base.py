"""What an SLO objective kind is, and the registry of kinds by their key in scenario files.

An objective kind is one class in one module of this package: its `key` (`error_ratio`), the
pydantic model of the key's value (its bounds and selectors), the PromQL it becomes, and how
it is judged (one instant query at the end of the window, or a range query searched for the
moment a series settles). `@register_objective` makes it known; the SLO model's fields, the
"exactly one objective" check, the PromQL and the judge all read the registry, never the
objective's name.

Most kinds are read from Prometheus (`source = "prometheus"`). A kind with `source = "ledger"`
is measured from the load generator's ledger of acknowledged writes and the run's fault records
instead (`measure`, pure): the judge hands it both and sends nothing to Prometheus; its `query`
is then the text that says, where the report shows an SLO's PromQL, what it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from harness.load.ledger import Ledger
    from harness.record import FaultRecord, PhaseWindow
    from harness.slo.model import SLO

Source = Literal["prometheus", "ledger"]

OBJECTIVES: dict[str, type[Objective]] = {}
"""Every objective kind: its key in scenario files -> its class. Filled by `@register_objective`."""


class Objective:
    """One kind of objective. Subclasses set the class variables and `query`."""

    key: ClassVar[str]  # the SLO's key in scenario files
    value: ClassVar[Any]  # the pydantic type of that key's value
    description: ClassVar[str]  # shown in the JSON Schema
    field_options: ClassVar[dict[str, Any]] = {}  # more pydantic Field options for the key
    range_query: ClassVar[bool] = False  # judged from a range query (settling), not an instant
    own_bounds: ClassVar[bool] = False  # max and min are keys of the SLO, not of the value
    source: ClassVar[Source] = "prometheus"  # where its value comes from (see the docstring)

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        """The PromQL over a window written `w` (`37s` or `$window`) of `seconds` seconds (for
        a ledger objective: what it reads, in words, for the report)."""
        raise NotImplementedError

    @classmethod
    def measure(
        cls,
        slo: SLO,
        ledger: Ledger,
        faults: Sequence[FaultRecord],
        *,
        window: PhaseWindow,
    ) -> LedgerMeasure:
        """A ledger objective's value over the SLO's phase `window`. Raises `NoMeasure` when
        it cannot be told (the judge's error verdict)."""
        raise NotImplementedError

    @classmethod
    def fault_index(cls, slo: SLO) -> int | None:
        """The fault the objective counts from (`time_to_recover_s: {fault: N}`), if any: the
        planner checks the scenario has it."""
        fault = getattr(slo.value, "fault", None)
        return fault if isinstance(fault, int) else None

    @classmethod
    def bounds(cls, slo: SLO) -> tuple[float | None, float | None]:
        """(max, min) of the SLO: by default its value's."""
        return slo.value.max, slo.value.min

    @classmethod
    def level(cls, slo: SLO) -> float:
        """For a range objective: the level the series must settle at or under."""
        return 0.0


@dataclass(frozen=True, kw_only=True)
class LedgerMeasure:
    """What a ledger objective measured, from `start` to `end`: the value (None: it never
    happened), whether it fails whatever the bounds (`fails`: the value is only a lower bound,
    e.g. writes never came back before the window's end), why (SloResult.error) and how it
    came about (SloResult.detail)."""

    start: float
    end: float
    observed: float | None
    fails: bool = False
    why: str | None = None
    detail: str | None = None


class NoMeasure(Exception):
    """A ledger objective cannot be judged; the message says why (SloResult.error)."""


def register_objective(cls: type[Objective]) -> type[Objective]:
    """Class decorator: make an objective kind known by its key."""
    if cls.key in OBJECTIVES:
        raise ValueError(f"objective {cls.key!r} registered twice")
    OBJECTIVES[cls.key] = cls
    return cls
