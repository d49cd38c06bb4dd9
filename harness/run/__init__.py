"""Executing a scenario: stack, load and faults on one clock, recorded in a RunRecord."""
