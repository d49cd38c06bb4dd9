"""SLO objective kinds, one module each, registered by their class (`@register_objective`).

Importing this package imports every public module here (found on disk, not listed), so
`OBJECTIVES` is complete; the SLO model (harness/slo/model.py) makes one scenario key of each.
A new objective is one new module: its value model, its PromQL (or, for one read from the
ledger, its `measure`), how it is judged; and its test.
"""

import importlib
import pkgutil

from harness.slo.objectives._base import (
    OBJECTIVES,
    LedgerMeasure,
    NoMeasure,
    Objective,
    register_objective,
)

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["OBJECTIVES", "LedgerMeasure", "NoMeasure", "Objective", "register_objective"]
