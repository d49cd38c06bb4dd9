"""Read a scenario file: YAML -> validated Scenario -> planned, or one error listing everything.

Every problem is reported at once, each as `FILE:LINE: field.path: message (hint: ...)`: YAML
syntax, validation against the models, the models' cross-checks (services), duplicate keys and
the planner's checks (a fault after the end of the load, overlapping faults, missing phases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from harness.errors import ScenarioError
from harness.plan import plan_problems
from harness.scenario.explain import explain, field_keys
from harness.scenario.model import Scenario
from harness.scenario.problems import Problem, dotted
from harness.scenario.promql_syntax import promql_problems
from harness.scenario.yaml_doc import YamlDocument, YamlSyntaxError, read_yaml

# The bundled scenarios are 1-3 KB; a file over 1 MiB is a mistake (a log, a binary, a generated
# file gone wrong), and reading no more than this keeps /dev/zero or a 10 GB file harmless.
MAX_FILE_BYTES = 1024 * 1024
_TOO_BIG = f"is larger than {MAX_FILE_BYTES // 2**20} MiB, more than any scenario needs"
_TOO_BIG_HINT = "check that this is the scenario file; a scenario is a few KB of YAML"

_TOP_KEYS = ", ".join(field_keys(Scenario))
_REQUIRED = " and ".join(k for k, f in Scenario.model_fields.items() if f.is_required())


Advise = Callable[[Scenario], list[Problem]]
"""Warnings about a valid scenario (harness.plan_warnings.plan_warnings): they stop nothing."""


@dataclass(frozen=True)
class Loaded:
    scenario: Scenario
    warnings: list[str]  # each `FILE:LINE: field.path: message (hint: ...)`, like a problem


def load_scenario(path: Path) -> Scenario:
    """The Scenario in the file at `path`; ScenarioError (exit 2) listing every problem."""
    return read_scenario(path).scenario


def read_scenario(path: Path, advise: Advise | None = None) -> Loaded:
    """The Scenario in the file at `path` and, with `advise`, its warnings located in the
    file; ScenarioError (exit 2) listing every problem."""
    source = str(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise _single(source, f"{source}: {_TOO_BIG}", _TOO_BIG_HINT)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise _single(source, f"{source}: the file does not exist", "check the path") from None
    except IsADirectoryError:
        raise _single(source, f"{source}: is a directory, not a scenario file") from None
    except UnicodeDecodeError:
        raise _single(source, f"{source}: is not UTF-8 text") from None
    except OSError as err:
        raise _single(source, f"{source}: cannot read the file: {err.strerror}") from None
    scenario, doc = _parse(text, source)
    warnings = _located(advise(scenario), doc, source) if advise is not None else []
    return Loaded(scenario, warnings)


def parse_scenario(text: str, source: str) -> Scenario:
    """The Scenario in `text`, read from `source` (the name used in messages)."""
    return _parse(text, source)[0]


def _parse(text: str, source: str) -> tuple[Scenario, YamlDocument]:
    if len(text) > MAX_FILE_BYTES:  # characters: at least as many bytes
        raise _single(source, f"{source}: {_TOO_BIG}", _TOO_BIG_HINT)
    try:
        doc = read_yaml(text)
    except YamlSyntaxError as err:
        raise _single(source, f"{source}:{err.line}: {err.message}", err.hint) from None
    if doc.data is None:
        raise _single(
            source, f"{source}:1: the file is empty", f"a scenario needs at least {_REQUIRED}"
        )
    if not isinstance(doc.data, dict):
        message = f"the top level must be a mapping of {_TOP_KEYS}, not {_kind(doc.data)}"
        raise _single(source, f"{source}:{doc.line_of(())}: {message}")
    problems = list(doc.duplicates) + promql_problems(doc.data.get("slos"))
    scenario = None
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as err:
        problems += explain(err, Scenario)
    if scenario is not None:
        problems += plan_problems(scenario) + judged_problems(scenario)
    if problems or scenario is None:
        raise ScenarioError(_located(problems, doc, source), source=source)
    return scenario, doc


def judged_problems(scenario: Scenario) -> list[Problem]:
    """A scenario with no SLO and no invariant: its run could only pass, whatever happened."""
    if scenario.slos or scenario.invariants:
        return []
    message = "nothing to judge: no slos and no invariants, so any run of it would pass"
    hint = (
        "add an SLO (slos: [{name: few errors, phase: run, error_ratio: {max: 0.01}}]) "
        "or an invariant (invariants: [no_lost_writes])"
    )
    return [Problem(("slos",), message, hint)]


def _located(problems: list[Problem], doc: YamlDocument, source: str) -> list[str]:
    lines = sorted(((doc.line_of(p.path), n, p) for n, p in enumerate(problems)))
    return [format_problem(source, line, p) for line, _, p in lines]


def format_problem(source: str, line: int, problem: Problem) -> str:
    """`FILE:LINE: field.path: message (hint: ...)`, leaving out an empty path or hint."""
    field = f" {dotted(problem.path)}:" if problem.path else ""
    hint = f" (hint: {problem.hint})" if problem.hint else ""
    return f"{source}:{line}:{field} {problem.message}{hint}"


def _single(source: str, problem: str, hint: str | None = None) -> ScenarioError:
    return ScenarioError([problem + (f" (hint: {hint})" if hint else "")], source=source)


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else f"a single value ({value!r})"
