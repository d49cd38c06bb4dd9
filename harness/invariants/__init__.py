"""Data invariants: the writes the load generator saw acknowledged, checked against the shards
and the queue after the recovery window (pure checks in `checks`, adapters in `shards` and
`queue`, the drain wait in `run`)."""
