"""`wan_latency`: the WAN between the regions slows down (a congested or rerouted link).

Adds `latency_ms` (plus or minus `jitter_ms`) on every link into the shard nodes of one region
from the other (`into: us-east`: what us-east's primaries send to us-west's standbys, and what
they answer us-west's web tier), or into both regions', on top of the WAN's own latency. With
asynchronous replication the standbys fall behind by about that much: the lag a failover
would lose, and that a read of one's own write must not see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, toxic
from harness.faults.spec import FaultSpec, Stream, register_spec
from harness.fields import limits
from harness.fields.names import Region
from harness.stack.topology import REGIONS, SHARD_COUNT, wan_pg_link


@register_spec
class WanLatencySpec(FaultSpec):
    """Delay what crosses the WAN into one region's shard nodes, or both regions'."""

    type: Literal["wan_latency"] = "wan_latency"
    latency_ms: int = Field(
        ge=0, le=limits.MAX_DELAY_MS, description="Added delay in milliseconds."
    )
    jitter_ms: int = Field(
        default=0, ge=0, le=limits.MAX_DELAY_MS, description="Random variation, in ms."
    )
    into: Region | None = Field(
        default=None, description="Only the links into this region's shard nodes (else both)."
    )
    stream: Stream = Field(
        default="downstream",
        description="downstream: what the nodes send (WAL to the standbys, answers); upstream: "
        "what they receive.",
    )

    def links(self) -> list[str]:
        regions = [self.into] if self.into else list(REGIONS)
        return [wan_pg_link(s, r).name for r in regions for s in range(SHARD_COUNT)]

    def targets(self) -> tuple[str, ...]:
        return tuple(f"link:{name}" for name in self.links())

    @contextmanager
    def inject(self, ctx: FaultContext) -> Iterator[None]:
        attributes = {"latency": self.latency_ms, "jitter": self.jitter_ms}
        with ExitStack() as stack:
            for name in self.links():
                stack.enter_context(
                    toxic(ctx, name, type="latency", attributes=attributes, stream=self.stream)
                )
            yield
