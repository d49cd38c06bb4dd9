"""`reset_peer`: connections on a link are reset (TCP RST).

Toxiproxy's `reset_peer` toxic: resets connections after `timeout_ms` (0 = at once).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import ToxicSpec, register_spec
from harness.fields import limits


@register_spec
class ResetPeerSpec(ToxicSpec):
    """Reset the connections of one link."""

    type: Literal["reset_peer"] = "reset_peer"
    timeout_ms: int = Field(
        default=0,
        ge=0,
        le=limits.MAX_TIMEOUT_MS,
        description="Reset after this many ms (0 = at once).",
    )

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        attributes = {"timeout": self.timeout_ms}
        return toxic(
            ctx, self.link, type="reset_peer", attributes=attributes,
            stream=self.stream, toxicity=self.toxicity,
        )  # fmt: skip
