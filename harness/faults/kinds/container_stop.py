"""`container_stop`: a service is stopped for a while.

The containers of `service` are stopped gracefully (SIGTERM, then SIGKILL after Docker's
timeout) and started again when the window ends.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from harness.faults.runtime import FaultContext, containers_down
from harness.faults.spec import ServiceSpec, register_spec


@register_spec
class ContainerStopSpec(ServiceSpec):
    """Stop the containers of a service for the window."""

    type: Literal["container_stop"] = "container_stop"

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        return containers_down(
            ctx,
            ctx.containers.instances(self.service),
            down=ctx.containers.stop,
            up=ctx.containers.start,
            verb="stopped",
        )
