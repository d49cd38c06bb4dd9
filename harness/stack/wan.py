"""The WAN's latency: toxics every link between sites carries all run long.

A request that crosses the WAN pays the one-way latency each way (Toxiproxy's `latency` toxic
on both streams), so a synchronous commit to a standby in the other region costs a round trip.
These toxics are part of the stack, not faults: the Toxiproxy client puts them back after
every reset, and they do not count as something a fault left behind. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.stack import topology as t

WAN_TOXIC_PREFIX = "wan-latency"  # names of the baseline toxics, never a fault's


@dataclass(frozen=True, kw_only=True)
class BaselineToxic:
    link: str
    name: str
    type: str
    stream: str
    attributes: dict[str, Any]


def wan_links() -> list[t.Link]:
    """Every link that crosses sites: between the regions, and from each to the witness."""
    return [*t.wan_links(), *t.witness_links()]


def wan_toxics(latency_ms: int) -> list[BaselineToxic]:
    if latency_ms <= 0:
        return []
    return [
        BaselineToxic(
            link=link.name,
            name=f"{WAN_TOXIC_PREFIX}-{stream}",
            type="latency",
            stream=stream,
            attributes={"latency": latency_ms, "jitter": 0},
        )
        for link in wan_links()
        for stream in ("upstream", "downstream")
    ]
