"""`timeout`: a link swallows data and then hangs up.

Toxiproxy's `timeout` toxic: stops all data and closes the connection after `timeout_ms`
(0 keeps it open and silent until the toxic is removed).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import ToxicSpec, register_spec
from harness.fields import limits


@register_spec
class TimeoutSpec(ToxicSpec):
    """Stop the data on one link, closing connections after a while."""

    type: Literal["timeout"] = "timeout"
    timeout_ms: int = Field(
        ge=0,
        le=limits.MAX_TIMEOUT_MS,
        description="Close the connection after this many ms (0 = never, hold it).",
    )

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        attributes = {"timeout": self.timeout_ms}
        return toxic(
            ctx, self.link, type="timeout", attributes=attributes,
            stream=self.stream, toxicity=self.toxicity,
        )  # fmt: skip
