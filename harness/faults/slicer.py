"""`slicer`: data on a link arrives in small pieces.

Toxiproxy's `slicer` toxic: cuts the data into packets of about `average_size` bytes (give or
take `size_variation`), with `delay_us` microseconds between them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, register_runtime, toxic
from harness.faults.spec import ToxicSpec, register_spec
from harness.scenario import limits


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


@register_runtime("slicer")
def inject(spec: SlicerSpec, ctx: FaultContext) -> AbstractContextManager[None]:
    attributes = {
        "average_size": spec.average_size,
        "size_variation": spec.size_variation,
        "delay": spec.delay_us,
    }
    return toxic(
        ctx, spec.link, type="slicer", attributes=attributes,
        stream=spec.stream, toxicity=spec.toxicity,
    )  # fmt: skip
