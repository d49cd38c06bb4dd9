"""The verdict table of scenarios/README.md as data: what each bundled scenario must say on the
healthy stack and with each seeded bug. Read by the unit test that checks its names and by the
integration test that runs it, so the table people read is the one that is tested.

A failing cell lists what the bug explains, separated by `;`: `fail: A; B; C?` says A and B
must fail, C may (a name ending in `?`), and nothing else may fail or err."""

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
    must_fail: tuple[str, ...] = ()  # with "fail": SLOs and invariants that must fail
    may_fail: tuple[str, ...] = ()  # ... and those the bug may also fail; nothing else may
    default: bool  # bold in the table: runs in the default test command, else under -m slow

    @property
    def caught_by(self) -> str | None:
        """The first name the cell says must fail (None for a passing cell)."""
        return self.must_fail[0] if self.must_fail else None

    @property
    def explained(self) -> frozenset[str]:
        return frozenset(self.must_fail) | frozenset(self.may_fail)

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
            names = [n.strip() for n in value[6:].split(";")] if value.startswith("fail:") else []
            must = tuple(n for n in names if n and not n.endswith("?"))
            may = tuple(n[:-1].strip() for n in names if n.endswith("?") and n[:-1].strip())
            if value == "pass":
                cells.append(Cell(scenario=scenario, bug=bug, expected="pass", default=bold))
            elif must and len(must) + len(may) == len(names):
                cells.append(Cell(scenario=scenario, bug=bug, expected="fail", must_fail=must,
                                  may_fail=may, default=bold))  # fmt: skip
            else:
                raise TableError(
                    f"line {number}, {scenario} / {column}: {raw!r} is not "
                    "`pass`, `fail: <SLO or invariant name>[; <another>[?]...]` or `—`"
                )
    return cells
