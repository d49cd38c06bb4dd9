"""Scenario files: the models (model, slo_model), durations, limits, the YAML loader, the
PromQL syntax check and the JSON Schema.

Kept free of imports so that `harness.faults` (whose spec models use `durations` and `names`)
and `harness.scenario.model` (which builds its fault union from `harness.faults`) can import
each other's modules without a cycle.
"""
