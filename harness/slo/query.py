"""What the judge needs from Prometheus, as a Protocol: the real client or a test's fake."""

from __future__ import annotations

from typing import Protocol

from harness.record import Series

Sample = tuple[dict[str, str], float]  # one series of an instant vector: labels, value


class PromQuery(Protocol):
    """Instant and range PromQL queries. Every failure raises `InfraError` (never returns
    None); an empty list means Prometheus answered with no data."""

    def instant(self, promql: str, at: float) -> list[Sample]: ...

    def range(self, promql: str, start: float, end: float, step_s: float = 1.0) -> list[Series]: ...
