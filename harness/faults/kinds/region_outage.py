"""`region_outage`: a whole region goes dark.

`mode: network` disables every Toxiproxy link of the region (its edge from the geo router and
its outbound queue and shard links), so the region's web and workers are cut off while their
containers keep running; `mode: stop` stops the region's web and worker containers and starts
them again when the window ends. Either way the geo router must move the region's users to the
other region, and back afterwards.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, containers_down, links_down
from harness.faults.spec import FaultSpec, register_spec
from harness.fields.names import Region
from harness.stack.topology import region_links
from harness.vocabulary import REGIONAL_TIERS, tier_service


@register_spec
class RegionOutageSpec(FaultSpec):
    """All of one region down: its links (network) or its containers (stop)."""

    type: Literal["region_outage"] = "region_outage"
    region: Region = Field(description="The region that goes dark.")
    mode: Literal["network", "stop"] = Field(
        default="network",
        description="network: disable the region's Toxiproxy links; stop: stop its containers.",
    )

    def targets(self) -> tuple[str, ...]:
        if self.mode == "stop":
            touched = [f"service:{tier_service(t, self.region)}" for t in REGIONAL_TIERS]
        else:
            touched = [f"link:{link.name}" for link in region_links(self.region)]
        return (f"region:{self.region}", *touched)

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        if self.mode == "network":
            return links_down(ctx, [link.name for link in region_links(self.region)])
        region_containers = [
            container
            for tier in REGIONAL_TIERS  # web first, then the workers
            for container in ctx.containers.instances(tier_service(tier, self.region))
        ]
        return containers_down(
            ctx,
            region_containers,
            down=ctx.containers.stop,
            up=ctx.containers.start,
            verb="stopped",
        )
