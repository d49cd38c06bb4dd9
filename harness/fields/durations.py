"""Durations as people write them in scenario files: `60s`, `2m`, `1m30s`, `500ms`, `1h`.

A plain number (or a string holding one) means seconds. Units go from largest to smallest,
each at most once, without spaces: `1h2m3s4ms` is valid, `30s1m` is not.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

DURATION_FORMAT = "expected a duration like 30s, 2m, 1m30s or 500ms"

_NUMBER = r"\d+(?:\.\d+)?"
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_DURATION_RE = re.compile(
    rf"(?=\d)(?:(?P<h>{_NUMBER})h)?(?:(?P<m>{_NUMBER})m(?!s))?"
    rf"(?:(?P<s>{_NUMBER})s)?(?:(?P<ms>{_NUMBER})ms)?"
)
_PLAIN_RE = re.compile(_NUMBER)

# The same grammar for editors (ECMA 262 regex in the JSON Schema).
DURATION_PATTERN = (
    rf"^(?:{_NUMBER}|(?=\d)(?:{_NUMBER}h)?(?:{_NUMBER}m(?!s))?(?:{_NUMBER}s)?(?:{_NUMBER}ms)?)$"
)


def parse_duration(text: str) -> float:
    """Seconds in `text` (`"1m30s"` -> 90.0); ValueError with the expected format otherwise."""
    text = text.strip()
    if _PLAIN_RE.fullmatch(text):
        return float(text)
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"invalid duration {text!r}: {DURATION_FORMAT}")
    return sum(
        float(value) * _UNIT_SECONDS[unit] for unit, value in match.groupdict().items() if value
    )


def format_duration(seconds: float) -> str:
    """The short form people write: 90.0 -> "1m30s", 0.5 -> "500ms", 0 -> "0s"."""
    if seconds < 1 and seconds > 0:
        return f"{seconds * 1000:g}ms"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{rest:g}s" if rest or not (hours or minutes) else "")
    return "".join(parts)


def _to_seconds(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            pass
    raise PydanticCustomError(
        "duration", "invalid duration {given}: " + DURATION_FORMAT, {"given": repr(value)}
    )


Duration = Annotated[
    float,
    BeforeValidator(_to_seconds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration: 30s, 2m, 1m30s, 500ms, 1h, or a number of seconds.",
        }
    ),
]
"""Seconds as a float; accepts `"1m30s"`-style strings and plain numbers."""
