"""Fault kinds, one module each, registered by their `type` name in scenario files.

Importing this package imports every kind, so `harness.faults.spec.SPECS` is complete:

    region_outage, consumer_death, shard_hotspot          the named faults of the bundled stack
    latency, bandwidth, timeout, reset_peer, slow_close,  Toxiproxy toxics on one link
    slicer, limit_data
    link_down                                             a link disabled
    container_kill, container_stop, container_pause       the containers of one service

A new fault kind is one new module here (its spec model, `@register_spec`) and one import below.
"""

from harness.faults import (
    bandwidth,
    consumer_death,
    container_kill,
    container_pause,
    container_stop,
    latency,
    limit_data,
    link_down,
    region_outage,
    reset_peer,
    shard_hotspot,
    slicer,
    slow_close,
    timeout,
)
from harness.faults.spec import SPECS, FaultSpec, fault_union, register_spec

__all__ = [
    "SPECS",
    "FaultSpec",
    "bandwidth",
    "consumer_death",
    "container_kill",
    "container_pause",
    "container_stop",
    "fault_union",
    "latency",
    "limit_data",
    "link_down",
    "region_outage",
    "register_spec",
    "reset_peer",
    "shard_hotspot",
    "slicer",
    "slow_close",
    "timeout",
]
