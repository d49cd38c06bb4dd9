"""`wan_partition`: one region cut off from the other and from the witness, while its own
users still reach it: the split-brain case.

Every WAN link and the region's link to the witness are disabled; its entry stays up. The
region's primaries cannot renew their leader locks and must stop taking writes (fencing), the
other region promotes its standbys; when the partition heals, the cut-off region's nodes
rejoin as standbys. What it costs its users (writes refused while their region is cut off,
reads served from their region's copy) is what the scenario measures.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, links_down
from harness.faults.spec import FaultSpec, register_spec
from harness.fields.names import Region
from harness.stack.topology import isolation_links


@register_spec
class WanPartitionSpec(FaultSpec):
    """Cut a region off from the other region and from the witness; its users still reach it."""

    type: Literal["wan_partition"] = "wan_partition"
    region: Region = Field(description="The region cut off (the minority side).")

    def links(self) -> list[str]:
        return [link.name for link in isolation_links(self.region)]

    def targets(self) -> tuple[str, ...]:
        return (f"region:{self.region}", *(f"link:{name}" for name in self.links()))

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        return links_down(ctx, self.links())
