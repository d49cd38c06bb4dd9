"""`container_pause`: a service freezes.

The containers of `service` are paused (their processes frozen, connections kept open but
unanswered) and unpaused when the window ends: a hung process, not a dead one.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from harness.faults.runtime import FaultContext, containers_down
from harness.faults.spec import ServiceSpec, register_spec


@register_spec
class ContainerPauseSpec(ServiceSpec):
    """Freeze the containers of a service for the window."""

    type: Literal["container_pause"] = "container_pause"

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        return containers_down(
            ctx,
            ctx.containers.instances(self.service),
            down=ctx.containers.pause,
            up=ctx.containers.unpause,
            verb="paused",
        )
