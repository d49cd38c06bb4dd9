"""`shard_hotspot`: the celebrity problem on one shard.

A `share` of the load generator's reads and writes goes to a few "celebrity" users who all live
on `shard` (user_id % 4 == shard), so that shard takes far more than its quarter of the traffic.
With `latency_ms`, the shard also answers slowly: latency is added on every link into its
nodes (each region's to its own copy, `shard<N>-us-east`, and over the WAN, `wan-shard<N>-...`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import FaultSpec, register_spec
from harness.fields import limits
from harness.stack.topology import SHARD_COUNT, shard_links


@register_spec
class ShardHotspotSpec(FaultSpec):
    """Skew traffic to the celebrity users of one shard, optionally slowing its links."""

    type: Literal["shard_hotspot"] = "shard_hotspot"
    shard: int = Field(ge=0, le=SHARD_COUNT - 1, description="The shard the celebrities live on.")
    share: float = Field(
        gt=0, le=1, description="The fraction of the load's reads and writes sent to celebrities."
    )
    celebrities: int = Field(default=5, ge=1, le=50, description="How many celebrity users.")
    latency_ms: int | None = Field(
        default=None,
        ge=0,
        le=limits.MAX_DELAY_MS,
        description="Latency added on every link into the shard's nodes, if set.",
    )

    def targets(self) -> tuple[str, ...]:
        links = [] if self.latency_ms is None else shard_links(self.shard)
        return ("load:celebrities", *(f"link:{link.name}" for link in links))

    @contextmanager
    def inject(self, ctx: FaultContext) -> Iterator[None]:
        # The traffic skew itself is done by the load generator, which gets the hotspot windows
        # in its settings before the load starts (harness/run/loadconfig.py); what happens here
        # is the shard's slowness, and the record of the window.
        ctx.event(
            "hotspot",
            f"{self.share:.0%} of reads and writes to {self.celebrities} celebrities on shard "
            f"{self.shard} (load generator)",
        )
        with ExitStack() as stack:
            if self.latency_ms is not None:
                for link in shard_links(self.shard):
                    stack.enter_context(
                        toxic(
                            ctx,
                            link.name,
                            type="latency",
                            attributes={"latency": self.latency_ms, "jitter": 0},
                        )
                    )
            yield
