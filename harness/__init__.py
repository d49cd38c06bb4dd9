"""Chaos Harness: run a scenario against a two-region stack, inject faults, judge the outcome."""

__version__ = "0.1.0"
