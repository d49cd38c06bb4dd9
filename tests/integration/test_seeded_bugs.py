"""The gate fails when the system is broken: bundled scenarios against seeded bugs.

Each bundled scenario passes on the healthy stack and fails (exit 1, naming what failed) on a
stack started with one seeded bug: failover off, ack before persist, no reclaim.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.stack.endpoints import Endpoints
from tests.integration.conftest import harness_cli


@pytest.mark.parametrize("scenario", ["scenarios/ci-gate.yaml", "scenarios/consumer-death.yaml"])
def test_bundled_scenario_passes_on_the_healthy_stack(
    stack: Endpoints, stack_name: str, scenario: str, tmp_path: Path
) -> None:
    done = harness_cli(
        "run", scenario, "--stack", stack_name, "--reuse-stack", "--reports", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize(
    ("scenario", "bug", "failure"),
    [
        ("scenarios/ci-gate.yaml", "failover_off", "SLO FAIL: errors during the outage"),
        ("scenarios/consumer-death.yaml", "no_reclaim", "INVARIANT FAIL: no_lost_jobs"),
        ("scenarios/consumer-death.yaml", "ack_before_persist", "INVARIANT FAIL: no_lost_jobs"),
    ],
)
def test_bundled_scenario_fails_on_a_stack_with_a_seeded_bug(
    scenario: str, bug: str, failure: str, tmp_path: Path
) -> None:
    done = harness_cli(
        "run", scenario, "--bug", bug, "--stack", f"it-bug-{os.getpid()}",
        "--drain-timeout", "15", "--reports", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    assert failure in done.stderr, done.stderr[-3000:]
