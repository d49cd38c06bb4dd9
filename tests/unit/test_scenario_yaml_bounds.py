"""Bad input, bounded: alias bombs, loops, deep nesting and huge files are refused, fast."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import EXIT_USAGE, ScenarioError
from harness.scenario.loader import MAX_FILE_BYTES, load_scenario, parse_scenario
from harness.scenario.yaml_doc import MAX_DEPTH, MAX_VALUES

LOL = '["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'


def bomb(levels: int = 9) -> str:
    """A "billion laughs": each line 9 aliases of the one before, 9^levels values in all."""
    lines = ["name: bomb", f"l0: &l0 {LOL}"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def problem_of(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    assert info.value.exit_code == EXIT_USAGE
    (problem,) = info.value.problems
    return problem


def test_a_billion_laughs_is_refused_in_a_moment_and_little_memory() -> None:
    text = bomb()
    assert len(text) < 1024
    # Bounded by what it may allocate, not by a clock (a loaded CI machine is slow): the
    # expansion is counted before anything is built, so a bomb never grows.
    tracemalloc.start()
    try:
        problem = problem_of(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, peak
    assert problem.startswith("s.yaml:10: YAML aliases expand this file to ")
    assert f"more than {MAX_VALUES}" in problem and "*l7 here stands for" in problem
    assert "(hint: " in problem


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param(
            "a: &a [*a]\n", "s.yaml:1: alias *a refers to a node that contains it", id="loop"
        ),
        pytest.param(
            "name: x\nload: " + "[" * 500 + "]" * 500 + "\n",
            f"s.yaml:2: nested more than {MAX_DEPTH} levels deep",
            id="deep brackets",
        ),
        pytest.param(
            "a: &a [1]\n"
            + "".join(f"b{n}: &b{n} [*{'a' if n == 0 else f'b{n - 1}'}]\n" for n in range(60)),
            f"s.yaml:61: YAML aliases nest this file 63 levels deep, more than {MAX_DEPTH}",
            id="deep alias chain",
        ),
        pytest.param(
            "name: x\nitems: [" + ", ".join(["1"] * (MAX_VALUES + 10)) + "]\n",
            f"s.yaml:2: more than {MAX_VALUES} values",
            id="too many values",
        ),
        pytest.param(
            "name: x\nload: {users: 1" + "0" * 5000 + "}\n",
            "s.yaml:2: invalid YAML: unreadable integer",
            id="integer with 5000 digits",
        ),
        pytest.param(
            "a: *nowhere\n", "s.yaml:1: invalid YAML: found undefined alias", id="no anchor"
        ),
    ],
)
def test_unbounded_yaml_is_refused_at_its_line(text: str, needle: str) -> None:
    assert needle in problem_of(text)


def test_a_huge_text_is_refused_before_parsing() -> None:
    problem = problem_of("#" * (MAX_FILE_BYTES + 1))
    assert problem == (
        "s.yaml: is larger than 1 MiB, more than any scenario needs "
        "(hint: check that this is the scenario file; a scenario is a few KB of YAML)"
    )


def test_a_huge_file_is_not_read_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        f"{path}: is larger than 1 MiB, more than any scenario needs"
        " (hint: check that this is the scenario file; a scenario is a few KB of YAML)"
    ]


def test_a_file_just_under_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "padded.yaml"
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "smoke.yaml"
    text = scenario.read_bytes()
    path.write_bytes(text + b"#" * (MAX_FILE_BYTES - len(text) - 1) + b"\n")
    assert load_scenario(path).name == "smoke"


def test_a_few_aliases_are_fine() -> None:
    text = bomb(levels=2).replace("name: bomb\n", "")  # 81 values: not a bomb
    with pytest.raises(ScenarioError) as info:
        parse_scenario("name: x\n" + text, "s.yaml")
    problems = " ".join(info.value.problems)
    assert "aliases" not in problems and "unknown key 'l0'" in problems


def test_validate_exits_2_on_a_bomb_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == EXIT_USAGE
    assert f"{path}:10: YAML aliases expand this file to " in result.stderr
    assert "Traceback" not in result.output
