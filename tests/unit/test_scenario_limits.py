"""Counts, rates and times have upper bounds that fit one machine; bounds are finite numbers."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.fields import limits
from harness.scenario.loader import parse_scenario

HEAD = """\
name: t
invariants: [no_lost_writes]
load: {users: 10, spawn_rate: 5, duration: 60s, geography: {us-east: 50, us-west: 50}}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    return info.value.problems


def fault(entry: str) -> str:
    return HEAD + f"faults:\n  - {{{entry}, at: 5s, duration: 5s}}\n"


LINK = "link: edge-us-east"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param(
            HEAD.replace("users: 10", "users: 1000000000000"),
            "load.users: Input should be less than or equal to 10000",
            id="users",
        ),
        pytest.param(
            HEAD.replace("spawn_rate: 5", "spawn_rate: 5000"), "load.spawn_rate", id="spawn_rate"
        ),
        pytest.param(
            HEAD.replace("spawn_rate: 5", "spawn_rate: .inf"),
            "load.spawn_rate",
            id="spawn_rate inf",
        ),
        pytest.param(
            HEAD.replace("duration: 60s", "duration: 25h"), "load.duration", id="duration"
        ),
        pytest.param(
            HEAD.replace("geography:", "tasks: {read_user: 1001}, geography:"),
            "load.tasks.read_user",
            id="task weight",
        ),
        pytest.param(HEAD.replace("geography:", "seed: -1, geography:"), "load.seed", id="seed"),
        pytest.param(
            HEAD.replace("us-west: 50", "us-west: 150"), "load.geography.us-west", id="geography"
        ),
        pytest.param(
            HEAD + "faults:\n  - {type: link_down, link: edge-us-east, at: 5s, duration: .inf}\n",
            "faults[0].duration",
            id="fault duration inf",
        ),
        pytest.param(
            HEAD + "faults:\n  - {type: link_down, link: edge-us-east, at: 90000s, duration: 1s}\n",
            "faults[0].at",
            id="fault offset",
        ),
        pytest.param(
            fault(f"type: latency, {LINK}, latency_ms: 600001"),
            "faults[0].latency_ms",
            id="latency",
        ),
        pytest.param(
            fault(f"type: latency, {LINK}, latency_ms: 1, jitter_ms: 10000000"),
            "faults[0].jitter_ms",
            id="jitter",
        ),
        pytest.param(
            fault(f"type: bandwidth, {LINK}, rate_kbps: 99999999999"),
            "faults[0].rate_kbps",
            id="bandwidth",
        ),
        pytest.param(
            fault(f"type: limit_data, {LINK}, bytes: 99999999999"),
            "faults[0].bytes",
            id="limit_data",
        ),
        pytest.param(
            fault(f"type: slow_close, {LINK}, delay_ms: 99999999999"),
            "faults[0].delay_ms",
            id="slow_close",
        ),
        pytest.param(
            fault(f"type: timeout, {LINK}, timeout_ms: 99999999999"),
            "faults[0].timeout_ms",
            id="timeout",
        ),
        pytest.param(
            fault(f"type: slicer, {LINK}, average_size: 100000"),
            "faults[0].average_size",
            id="slicer",
        ),
        pytest.param(
            HEAD + "slos:\n  - {name: e, phase: run, error_ratio: {max: .nan}}\n",
            "slos[0].error_ratio.max: Input should be a finite number",
            id="NaN bound passes everything",
        ),
        pytest.param(
            HEAD + "slos:\n  - {name: e, phase: run, promql: up, min: -.inf}\n",
            "slos[0].min: Input should be a finite number",
            id="infinite promql bound",
        ),
        pytest.param(
            HEAD + "slos:\n  - {name: r, phase: run, time_to_recover_s: {max: 1e9}}\n",
            "slos[0].time_to_recover_s.max",
            id="recovery seconds",
        ),
        pytest.param(
            HEAD.replace("name: t", "name: " + "n" * 81),
            "name: String should have at most 80",
            id="name",
        ),
    ],
)
def test_past_a_bound_is_refused(text: str, needle: str) -> None:
    found = problems(text)
    assert any(needle in p for p in found), found


def test_a_bound_says_why_and_where() -> None:
    (problem,) = problems(HEAD.replace("users: 10", "users: 1000000000000"))
    assert problem == (
        "s.yaml:3: load.users: Input should be less than or equal to 10000, got 1000000000000 "
        "(hint: one machine runs load and stack: past a few thousand users, Locust is measured; "
        "each has its reason in harness/fields/limits.py)"
    )


def test_the_stacks_own_bounds_get_no_machine_hint() -> None:
    (problem,) = problems(fault("type: shard_hotspot, shard: 9, share: 0.5"))
    assert "less than or equal to 3" in problem and "limits.py" not in problem


@pytest.mark.parametrize(
    "text",
    [
        HEAD.replace("users: 10", f"users: {limits.MAX_USERS}"),
        HEAD.replace("duration: 60s", "duration: 24h"),
        HEAD.replace("spawn_rate: 5", f"spawn_rate: {limits.MAX_SPAWN_RATE:g}"),
    ],
    ids=["users", "duration", "spawn_rate"],
)
def test_the_bound_itself_is_allowed(text: str) -> None:
    assert parse_scenario(text, "s.yaml").name == "t"
