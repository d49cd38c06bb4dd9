"""Executing a scenario: stack, load and faults on one clock, recorded in a RunRecord.
`compose.py` builds what the run talks to (the Target); `orchestrator.py` runs it."""
