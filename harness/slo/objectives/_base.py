"""What an SLO objective kind is, and the registry of kinds by their key in scenario files.

An objective kind is one class in one module of this package: its `key` (`error_ratio`), the
pydantic model of the key's value (its bounds and selectors), the PromQL it becomes, and how
it is judged (one instant query at the end of the window, or a range query searched for the
moment a series settles). `@register_objective` makes it known; the SLO model's fields, the
"exactly one objective" check, the PromQL and the judge all read the registry, never the
objective's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from harness.slo.model import SLO

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

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        """The PromQL over a window written `w` (`37s` or `$window`) of `seconds` seconds."""
        raise NotImplementedError

    @classmethod
    def bounds(cls, slo: SLO) -> tuple[float | None, float | None]:
        """(max, min) of the SLO: by default its value's."""
        return slo.value.max, slo.value.min

    @classmethod
    def level(cls, slo: SLO) -> float:
        """For a range objective: the level the series must settle at or under."""
        return 0.0


def register_objective(cls: type[Objective]) -> type[Objective]:
    """Class decorator: make an objective kind known by its key."""
    if cls.key in OBJECTIVES:
        raise ValueError(f"objective {cls.key!r} registered twice")
    OBJECTIVES[cls.key] = cls
    return cls
