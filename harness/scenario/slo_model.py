"""The SLO part of a scenario file, under the name the scenario model imports it by.

The model is made in harness/slo/model.py from the objective kinds of harness/slo/objectives/
(one module each, registered by class); this module re-exports it and the bounds.
"""

from __future__ import annotations

from harness.slo.model import SLO, Phase
from harness.slo.objectives import OBJECTIVES as _KINDS
from harness.slo.objectives._bounds import Bound, Limit, TierBound
from harness.slo.objectives.server_error_ratio import ErrorTierBound
from harness.slo.objectives.time_to_recover import RecoverBound

OBJECTIVES: tuple[str, ...] = tuple(_KINDS)  # every objective key a scenario's SLO may use

__all__ = ["SLO", "Bound", "ErrorTierBound", "Limit", "Phase", "RecoverBound", "TierBound"]
