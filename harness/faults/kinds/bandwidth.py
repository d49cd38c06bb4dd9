"""`bandwidth`: a link becomes a thin pipe.

Toxiproxy's `bandwidth` toxic: limits the link to `rate_kbps` kilobytes per second.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import ToxicSpec, register_spec
from harness.fields import limits


@register_spec
class BandwidthSpec(ToxicSpec):
    """Limit the throughput of one link."""

    type: Literal["bandwidth"] = "bandwidth"
    rate_kbps: int = Field(
        ge=0, le=limits.MAX_RATE_KBPS, description="Allowed rate in KB/s (0 stops the data)."
    )

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        attributes = {"rate": self.rate_kbps}
        return toxic(
            ctx, self.link, type="bandwidth", attributes=attributes,
            stream=self.stream, toxicity=self.toxicity,
        )  # fmt: skip
