"""`limit_data`: a link closes connections after a number of bytes.

Toxiproxy's `limit_data` toxic: closes each connection once `bytes` have gone through.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import ToxicSpec, register_spec
from harness.fields import limits


@register_spec
class LimitDataSpec(ToxicSpec):
    """Close connections of one link after some bytes."""

    type: Literal["limit_data"] = "limit_data"
    bytes: int = Field(
        ge=1, le=limits.MAX_BYTES, description="Bytes allowed through before the connection closes."
    )

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        attributes = {"bytes": self.bytes}
        return toxic(
            ctx, self.link, type="limit_data", attributes=attributes,
            stream=self.stream, toxicity=self.toxicity,
        )  # fmt: skip
