"""The verdict table of scenarios/README.md as data: what each bundled scenario must say on the
healthy stack and with each seeded bug. Read by the unit test that checks its names and by the
integration test that runs it, so the table people read is the one that is tested."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "scenarios" / "README.md"
HEADER_START = "| scenario |"
NO_CLAIM = ("—", "-", "")


@dataclass(frozen=True, kw_only=True)
class Cell:
    scenario: str
    bug: str | None  # None: the healthy stack
    expected: str  # "pass" or "fail"
    caught_by: str | None  # with "fail": the SLO or invariant that must be among the failures
    default: bool  # bold in the table: runs in the default test command, else under -m slow

    @property
    def id(self) -> str:
        return f"{self.scenario}-{self.bug or 'healthy'}"


class TableError(ValueError):
    pass


def _row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def read_table(text: str | None = None) -> list[Cell]:
    """Every claimed cell of the table, row by row."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(HEADER_START)), None)
    if start is None:
        raise TableError(f"no line starting with {HEADER_START!r}: the verdict table is missing")
    columns = _row(lines[start])[1:]
    cells = []
    for number, line in enumerate(lines[start + 2 :], start=start + 3):
        if not line.startswith("|"):
            break
        scenario, *values = _row(line)
        if len(values) != len(columns):
            raise TableError(f"line {number}: {len(values)} cells, the header has {len(columns)}")
        for column, raw in zip(columns, values, strict=True):
            bold = raw.startswith("**") and raw.endswith("**") and len(raw) > 4
            value = raw[2:-2].strip() if bold else raw
            if value in NO_CLAIM:
                continue
            bug = None if column == "healthy" else column
            if value == "pass":
                cells.append(Cell(scenario=scenario, bug=bug, expected="pass", caught_by=None,
                                  default=bold))  # fmt: skip
            elif value.startswith("fail: ") and value[6:].strip():
                cells.append(Cell(scenario=scenario, bug=bug, expected="fail",
                                  caught_by=value[6:].strip(), default=bold))  # fmt: skip
            else:
                raise TableError(
                    f"line {number}, {scenario} / {column}: {raw!r} is not "
                    "`pass`, `fail: <SLO or invariant name>` or `—`"
                )
    return cells
