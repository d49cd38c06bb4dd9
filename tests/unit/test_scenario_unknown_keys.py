"""An unknown key names itself, where it is, and the nearest valid key."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.scenario.explain import unknown_key
from harness.scenario.loader import parse_scenario

# Line 1 name, 2 invariants, 3 load; what a case adds starts on line 4.
HEAD = """\
name: t
invariants: [no_lost_writes]
load: {users: 10, spawn_rate: 5, duration: 60s, geography: {us-east: 50, us-west: 50}}
"""
FAULT = "faults:\n  - "


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(HEAD + text, "s.yaml")
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            FAULT + "{type: latency, link: edge-us-east, latency: 300, at: 5s, duration: 5s}\n",
            "s.yaml:5: faults[0].latency: unknown key 'latency' (did you mean 'latency_ms'?)",
            id="a key named like its fault type",
        ),
        pytest.param(
            FAULT + "{type: region_outage, region: us-east, at: 1s, durration: 5s}\n",
            "s.yaml:5: faults[0].durration: unknown key 'durration' (did you mean 'duration'?)",
            id="a typo in a fault",
        ),
        pytest.param(
            "slos:\n  - name: r\n    phase: run\n    time_to_recover_s: {max: 1, form: start}\n",
            "s.yaml:7: slos[0].time_to_recover_s.form: unknown key 'form' (did you mean 'from'?)",
            id="an alias is a valid key",
        ),
        pytest.param(
            "slos:\n  - {name: e, phase: run, error_ratio: {max: 0.1, regoin: us-east}}\n",
            "s.yaml:5: slos[0].error_ratio.regoin: unknown key 'regoin' (did you mean 'region'?)",
            id="nested",
        ),
        pytest.param(
            "stack: {workers: 2}\n",
            "s.yaml:4: stack.workers: unknown key 'workers' (hint: valid keys here:",
            id="nothing near enough: no guess",
        ),
        pytest.param(
            "slo: []\n",
            "s.yaml:4: slo: unknown key 'slo' (did you mean 'slos'?)",
            id="top level",
        ),
    ],
)
def test_unknown_key_suggests_the_nearest(text: str, expected: str) -> None:
    found = [p for p in problems(text) if "unknown key" in p]
    assert len(found) == 1 and found[0].startswith(expected), found


def test_unknown_task_suggests_the_nearest() -> None:
    text = HEAD.replace("50}}", "50}, tasks: {read_usr: 1}}")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    (problem,) = info.value.problems
    assert problem.startswith(
        "s.yaml:3: load.tasks.read_usr: unknown key 'read_usr' (did you mean 'read_user'?)"
    )


@pytest.mark.parametrize(
    ("key", "valid", "expected"),
    [
        (
            "latency",
            ["link", "latency_ms", "jitter_ms"],
            "unknown key 'latency' (did you mean 'latency_ms'?)",
        ),
        ("zzz", ["link", "latency_ms"], "unknown key 'zzz'"),
        (0, ["link"], "unknown key 0"),
        ("max", [], "unknown key 'max'"),
    ],
)
def test_unknown_key_message(key: object, valid: list[str], expected: str) -> None:
    assert unknown_key(key, valid) == expected
