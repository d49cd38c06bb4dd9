"""What the judge needs from Prometheus: the `PromQuery` port (defined with the other ports in
harness/ports.py), under the name the SLO modules have always imported it by."""

from __future__ import annotations

from harness.ports import PromQuery, Sample

__all__ = ["PromQuery", "Sample"]
