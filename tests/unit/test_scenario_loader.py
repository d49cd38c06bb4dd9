"""The loader: bundled scenarios load; every bad input is one exit-2 error naming line and field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.errors import EXIT_USAGE, ScenarioError
from harness.scenario.loader import load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BUNDLED = sorted(SCENARIOS.glob("*.yaml"))

# Line 1 name, 2 invariants, 3 load, 4 users, 5 spawn_rate, 6 duration, 7 geography; faults
# start at 8. (The invariant is there because a scenario with nothing to judge is refused.)
BASE = """\
name: t
invariants: [no_lost_writes]
load:
  users: 10
  spawn_rate: 5
  duration: 60s
  geography: {us-east: 50, us-west: 50}
"""


@dataclass(frozen=True)
class Bad:
    """A bad scenario: its text (None: the file is missing) and what the error must say."""

    text: str | None
    line: int | None  # None: no line (missing file)
    field: str  # the field path; "" for problems of the whole file
    needle: str  # a piece of the message or hint


def _faults(*entries: str) -> str:
    return BASE + "faults:\n" + "".join(f"  - {e}\n" for e in entries)


BAD = {
    "unknown key": Bad(BASE + "slo: []\n", 8, "slo", "valid keys here: name, description"),
    "unknown nested key": Bad(
        BASE + "stack: {web_replica: 2}\n", 8, "stack.web_replica", "web_replicas"
    ),
    "wrong type": Bad(BASE.replace("users: 10", "users: many"), 4, "load.users", "valid integer"),
    "duration 10x": Bad(BASE.replace("60s", "10x"), 6, "load.duration", "30s, 2m, 1m30s or 500ms"),
    "negative users": Bad(BASE.replace("10", "-3"), 4, "load.users", "greater than 0"),
    "geography 90": Bad(BASE.replace("us-west: 50", "us-west: 40"), 7, "load.geography", "90"),
    "unknown region": Bad(
        BASE.replace("us-west: 50", "eu-west: 50"), 7, "load.geography.eu-west", "us-east, us-west"
    ),
    "unknown fault region": Bad(
        _faults("{type: region_outage, region: mars, at: 5s, duration: 5s}"),
        9,
        "faults[0].region",
        "valid regions: us-east, us-west",
    ),
    "unknown fault type": Bad(
        _faults("{type: meteor, at: 5s, duration: 5s}"), 9, "faults[0].type", "region_outage"
    ),
    "unknown link": Bad(
        _faults("{type: link_down, link: edge-mars, at: 5s, duration: 5s}"),
        9,
        "faults[0].link",
        "shard2-us-west",
    ),
    "unknown service": Bad(
        _faults("{type: container_kill, service: web-us-east-2, at: 5s, duration: 5s}"),
        9,
        "faults[0].service",
        "worker-us-east-1",
    ),
    "missing field": Bad(
        _faults("{type: latency, link: edge-us-east, at: 5s, duration: 5s}"),
        9,
        "faults[0].latency_ms",
        "missing",
    ),
    "fault after the run": Bad(
        _faults("{type: link_down, link: edge-us-east, at: 50s, duration: 20s}"),
        9,
        "faults[0].duration",
        "10s after the load ends",
    ),
    "overlapping faults": Bad(
        _faults(
            "{type: link_down, link: queue-us-east, at: 5s, duration: 20s}",
            "{type: latency, link: queue-us-east, latency_ms: 9, at: 10s, duration: 5s}",
        ),
        10,
        "faults[1]",
        "faults[0]",
    ),
    "slo phase missing": Bad(
        BASE + "slos:\n  - {name: f, phase: fault, error_ratio: {max: 0.1}}\n",
        9,
        "slos[0].phase",
        "no faults",
    ),
    "invalid yaml": Bad("name: t\nload: {users: 1\nfaults: []\n", 3, "", "flow"),
    "bad indentation": Bad("name: t\n  load: 1\n", 2, "", "mapping"),
    "empty file": Bad("", 1, "", "name and load"),
    "comments only": Bad("# nothing here\n", 1, "", "name and load"),
    "top level list": Bad("- name: t\n", 1, "", "mapping"),
    "top level scalar": Bad("hello\n", 1, "", "mapping"),
    "duplicate key": Bad(BASE + "name: u\n", 8, "name", "duplicate key"),
    "missing file": Bad(None, None, "", "does not exist"),
    "nothing to judge": Bad(
        BASE.replace("invariants: [no_lost_writes]\n", ""), 1, "slos", "add an SLO"
    ),
    "nothing to judge, empty lists": Bad(
        BASE.replace("[no_lost_writes]", "[]") + "slos: []\n", 8, "slos", "or an invariant"
    ),
}


def write_case(case: Bad, tmp_path: Path) -> Path:
    """The case as a file in tmp_path (not written when the case is the missing file)."""
    path = tmp_path / "case.yaml"
    if case.text is not None:
        path.write_text(case.text, encoding="utf-8")
    return path


def expected_prefix(case: Bad, path: Path) -> str:
    """How the problem line starts: `FILE:LINE: field: ` (or `FILE: ` without line or field)."""
    where = f"{path}:{case.line}: " if case.line else f"{path}: "
    return where + (f"{case.field}: " if case.field else "")


@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenarios_load(scenario: Path) -> None:
    loaded = load_scenario(scenario)
    assert loaded.name == scenario.stem
    assert scenario.read_text().startswith("# yaml-language-server: $schema=./scenario.schema.json")


def test_all_bundled_scenarios_are_there() -> None:
    names = {p.stem for p in BUNDLED}
    assert {"smoke", "region-outage", "consumer-death", "shard-hotspot", "ci-gate"} <= names


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_error_naming_line_and_field(case: Bad, tmp_path: Path) -> None:
    path = write_case(case, tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.exit_code == EXIT_USAGE
    assert len(err.problems) == 1, err.problems
    (problem,) = err.problems
    assert problem.startswith(expected_prefix(case, path)), problem
    assert case.needle in problem
    assert "errors.pydantic.dev" not in problem and "For further information" not in problem
    assert "Spec" not in problem and "BaseModel" not in problem


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = BASE.replace("10", "-1").replace("60s", "1y") + "colour: red\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "inline.yaml")
    lines = [int(p.split(":")[1]) for p in info.value.problems]
    assert lines == [4, 6, 8]
    assert all(p.startswith("inline.yaml:") for p in info.value.problems)
    assert "3 problems found" in info.value.render()


def test_plan_problems_are_reported_with_lines() -> None:
    text = _faults(
        "{type: region_outage, region: us-east, at: 0s, duration: 59s}",
        "{type: consumer_death, region: all, at: 10s, duration: 10s}",
    ).replace("invariants: [no_lost_writes]\n", "")  # they would need a recovery phase too
    text += "slos:\n  - {name: s, phase: steady, error_ratio: {max: 0.1}}\n"
    text += "  - {name: r, phase: recovery, error_ratio: {max: 0.1}}\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "p.yaml")
    problems = info.value.problems
    assert problems[0].startswith("p.yaml:9: faults[1]: ") and "region us-east" in problems[0]
    assert problems[1].startswith("p.yaml:11: slos[0].phase: the steady phase is empty")
    assert problems[2].startswith("p.yaml:12: slos[1].phase: the recovery phase lasts only 1s")


def test_errors_inside_block_style_lists_point_at_the_key() -> None:
    text = (
        BASE
        + "faults:\n  - type: shard_hotspot\n    shard: 9\n"
        + "    share: 0.5\n    at: 1s\n    duration: 2s\n"
    )
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "b.yaml")
    (problem,) = info.value.problems
    assert problem.startswith("b.yaml:10: faults[0].shard: Input should be less than or equal to 3")


def test_yaml_anchors_and_merge_keys_are_not_duplicates() -> None:
    text = BASE + (
        "faults:\n"
        "  - &slow {type: latency, link: edge-us-east, latency_ms: 50, at: 5s, duration: 5s}\n"
        "  - {<<: *slow, link: edge-us-west}\n"
    )
    scenario = parse_scenario(text, "anchors.yaml")
    assert [f.targets() for f in scenario.faults] == [
        ("link:edge-us-east",),
        ("link:edge-us-west",),
    ]


def test_a_directory_is_not_a_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="directory"):
        load_scenario(tmp_path)
