"""pydantic field types a scenario file uses, shared by the scenario and fault models.

Below both `harness.scenario` and `harness.faults` (which import it, never each other's
internals): durations (`30s`, `1m30s`) and the names of the bundled stack (regions, links).
"""
