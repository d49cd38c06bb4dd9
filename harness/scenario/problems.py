"""A problem found in a scenario: the field path it is about, what is wrong, what to do.

Validation (pydantic), the model's cross-checks and the planner all report problems in this
shape; the loader adds the file and line and formats them.
"""

from __future__ import annotations

from typing import NamedTuple

Path = tuple[str | int, ...]


class Problem(NamedTuple):
    """`path` like `("faults", 0, "region")`; `hint` lists valid values where it helps."""

    path: Path
    message: str
    hint: str | None = None


def dotted(path: Path) -> str:
    """`("faults", 0, "region")` -> `faults[0].region`; `()` -> `""`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
