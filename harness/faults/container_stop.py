"""`container_stop`: a service is stopped for a while.

The containers of `service` are stopped gracefully (SIGTERM, then SIGKILL after Docker's
timeout) and started again when the window ends.
"""

from __future__ import annotations

from typing import Literal

from harness.faults.spec import ServiceSpec, register_spec


@register_spec
class ContainerStopSpec(ServiceSpec):
    """Stop the containers of a service for the window."""

    type: Literal["container_stop"] = "container_stop"
