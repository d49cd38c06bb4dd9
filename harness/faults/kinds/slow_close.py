"""`slow_close`: connections on a link take long to close.

Toxiproxy's `slow_close` toxic: delays the closing of a connection by `delay_ms`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import ToxicSpec, register_spec
from harness.fields import limits


@register_spec
class SlowCloseSpec(ToxicSpec):
    """Delay the closing of connections on one link."""

    type: Literal["slow_close"] = "slow_close"
    delay_ms: int = Field(
        ge=0, le=limits.MAX_DELAY_MS, description="Delay before a connection closes, in ms."
    )

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        attributes = {"delay": self.delay_ms}
        return toxic(
            ctx, self.link, type="slow_close", attributes=attributes,
            stream=self.stream, toxicity=self.toxicity,
        )  # fmt: skip
