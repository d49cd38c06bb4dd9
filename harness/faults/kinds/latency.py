"""`latency`: every packet on a link is held back.

Toxiproxy's `latency` toxic: adds `latency_ms` (plus or minus up to `jitter_ms`) to the data
going through the link in the chosen direction.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import ToxicSpec, register_spec
from harness.fields import limits


@register_spec
class LatencySpec(ToxicSpec):
    """Delay the data on one link."""

    type: Literal["latency"] = "latency"
    latency_ms: int = Field(
        ge=0, le=limits.MAX_DELAY_MS, description="Added delay in milliseconds."
    )
    jitter_ms: int = Field(
        default=0,
        ge=0,
        le=limits.MAX_DELAY_MS,
        description="Random variation of the delay, in milliseconds.",
    )

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        attributes = {"latency": self.latency_ms, "jitter": self.jitter_ms}
        return toxic(
            ctx, self.link, type="latency", attributes=attributes,
            stream=self.stream, toxicity=self.toxicity,
        )  # fmt: skip
