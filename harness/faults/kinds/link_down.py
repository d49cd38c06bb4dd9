"""`link_down`: a link is cut.

The Toxiproxy proxy of the link is disabled (new connections are refused, open ones closed)
and enabled again when the window ends.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal

from harness.faults.runtime import FaultContext, links_down
from harness.faults.spec import LinkSpec, register_spec


@register_spec
class LinkDownSpec(LinkSpec):
    """Disable one link for the window."""

    type: Literal["link_down"] = "link_down"

    def inject(self, ctx: FaultContext) -> AbstractContextManager[None]:
        return links_down(ctx, [self.link])
