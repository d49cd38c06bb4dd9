"""`container_kill`: the containers of a service die.

The containers of `service` (or the one instance named) are killed with SIGKILL and, unless
`restart: false`, started again when the window ends.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from pydantic import Field

from harness.faults.runtime import FaultContext, containers_down
from harness.faults.spec import ServiceSpec, register_spec


@register_spec
class ContainerKillSpec(ServiceSpec):
    """Kill the containers of a service, restarting them afterwards by default."""

    type: Literal["container_kill"] = "container_kill"
    restart: bool = Field(
        default=True, description="Start the containers again when the window ends."
    )

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        return containers_down(
            ctx,
            ctx.containers.instances(self.service),
            down=ctx.containers.kill,
            up=ctx.containers.start if self.restart else None,
            verb="killed",
        )
