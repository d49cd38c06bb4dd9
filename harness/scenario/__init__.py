"""Scenario files: the models (model, slo_model), the YAML loader, the PromQL syntax check and
the JSON Schema.

The field types the models share with the fault kinds (durations, names) live below both, in
`harness.fields`; this package imports `harness.faults` (for the fault union), never the reverse.
"""
