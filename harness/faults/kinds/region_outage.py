"""`region_outage`: a whole data centre goes dark, its data tier and queue included.

`mode: network` isolates it: the edge to its users' entry, every WAN link and its link to the
witness are cut, so the region keeps running and nobody reaches it; its primaries lose the
witness and demote themselves. `mode: stop` stops every container of the region (power loss:
its entry, web, workers, queue, its copy of every shard) and starts them again when the
window ends. Either way the DNS must send the region's users to the other region (its check
of the entry fails), the other region's standbys must be promoted, and afterwards the region
rejoins (its nodes as standbys, rewound) and gets its users back.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, containers_down, links_down
from harness.faults.spec import FaultSpec, register_spec
from harness.fields.names import Region
from harness.stack.topology import edge_link, isolation_links
from harness.vocabulary import regional_services


@register_spec
class RegionOutageSpec(FaultSpec):
    """All of one region down: its links (network) or its containers (stop)."""

    type: Literal["region_outage"] = "region_outage"
    region: Region = Field(description="The region that goes dark.")
    mode: Literal["network", "stop"] = Field(
        default="network",
        description="network: disable the region's Toxiproxy links; stop: stop its containers.",
    )

    def links(self) -> list[str]:
        """What `mode: network` cuts, in order: the witness and the WAN (isolation_links says
        why the witness goes first), then the users' way in."""
        return [*(link.name for link in isolation_links(self.region)), edge_link(self.region).name]

    def targets(self) -> tuple[str, ...]:
        if self.mode == "stop":
            touched = [f"service:{service}" for service in regional_services(self.region)]
        else:
            touched = [f"link:{name}" for name in self.links()]
        return (f"region:{self.region}", *touched)

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        if self.mode == "network":
            return links_down(ctx, self.links())
        region_containers = [
            container
            # web first (its users notice at once), then workers, queue and the data tier
            for service in regional_services(self.region)
            for container in ctx.containers.instances(service)
        ]
        return containers_down(
            ctx,
            region_containers,
            down=ctx.containers.stop,
            up=ctx.containers.start,
            verb="stopped",
        )
