"""`promql`: the user's own query, with `max`/`min` on the SLO itself. `$window` in the query
becomes the phase's length (`37s`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from harness.fields import limits
from harness.slo.objectives._base import Objective, register_objective
from harness.slo.promql import WINDOW

if TYPE_CHECKING:
    from harness.slo.model import SLO


@register_objective
class CustomPromQL(Objective):
    key = "promql"
    value = str
    description = "Your own PromQL; `$window` is replaced by the phase's length (e.g. 30s)."
    field_options: ClassVar[dict[str, object]] = {
        "min_length": 1,
        "max_length": limits.MAX_PROMQL_CHARS,
    }
    own_bounds = True  # its max and min are the SLO's own keys

    @classmethod
    def query(cls, slo: SLO, w: str, seconds: str) -> str:
        return str(slo.value).replace(WINDOW, w)

    @classmethod
    def bounds(cls, slo: SLO) -> tuple[float | None, float | None]:
        return slo.max, slo.min
