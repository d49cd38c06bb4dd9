"""`slicer`: data on a link arrives in small pieces.

Toxiproxy's `slicer` toxic: cuts the data into packets of about `average_size` bytes (give or
take `size_variation`), with `delay_us` microseconds between them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import ToxicSpec, register_spec
from harness.fields import limits


@register_spec
class SlicerSpec(ToxicSpec):
    """Slice the data of one link into small, delayed packets."""

    type: Literal["slicer"] = "slicer"
    average_size: int = Field(
        ge=1, le=limits.MAX_PACKET_BYTES, description="Average packet size in bytes."
    )
    size_variation: int = Field(
        default=0,
        ge=0,
        le=limits.MAX_PACKET_BYTES,
        description="Variation of the packet size in bytes.",
    )
    delay_us: int = Field(
        default=0,
        ge=0,
        le=limits.MAX_DELAY_US,
        description="Delay between packets in microseconds.",
    )

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        attributes = {
            "average_size": self.average_size,
            "size_variation": self.size_variation,
            "delay": self.delay_us,
        }
        return toxic(
            ctx, self.link, type="slicer", attributes=attributes,
            stream=self.stream, toxicity=self.toxicity,
        )  # fmt: skip
