"""Fault kinds, one module each in `harness.faults.kinds`, registered by their spec class.

Importing this package imports every module of `kinds` (found on disk, not listed), so
`harness.faults.spec.SPECS` is complete:

    region_outage, consumer_death, shard_hotspot          the named faults of the bundled stack
    latency, bandwidth, timeout, reset_peer, slow_close,  Toxiproxy toxics on one link
    slicer, limit_data
    link_down                                             a link disabled
    container_kill, container_stop, container_pause       the containers of one service

A new fault kind is one new module in `kinds/`: its spec model, decorated with `@register_spec`,
with an `inject(ctx)` method. The adapters (`toxiproxy_client`, `containers`) live beside
`kinds/` but are imported only by the composition root, never by this package.
"""

import importlib
import pkgutil

from harness.faults import kinds
from harness.faults.spec import SPECS, FaultSpec, fault_union, register_spec

for _module in sorted(pkgutil.iter_modules(kinds.__path__), key=lambda m: m.name):
    importlib.import_module(f"{kinds.__name__}.{_module.name}")

__all__ = ["SPECS", "FaultSpec", "fault_union", "register_spec"]
