"""Durations as people write them: parsing, formatting and the pydantic type."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from harness.fields.durations import DURATION_FORMAT, Duration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("60s", 60.0),
        ("2m", 120.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1h", 3600.0),
        ("1h2m3s", 3723.0),
        ("2m500ms", 120.5),
        ("1.5s", 1.5),
        ("90", 90.0),
        ("2.5", 2.5),
        (" 10s ", 10.0),
        ("0s", 0.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "10x", "s", "m30", "30s1m", "1m1m", "-5s", "1 m", "5 s", "ms"]
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like 30s, 2m, 1m30s or 500ms"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.5, "500ms"),
        (30, "30s"),
        (90, "1m30s"),
        (120, "2m"),
        (3600, "1h"),
        (3661, "1h1m1s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


class _Model(BaseModel):
    wait: Annotated[Duration, Field(gt=0)]


@pytest.mark.parametrize(
    ("value", "seconds"), [("1m30s", 90.0), (90, 90.0), (1.5, 1.5), ("45", 45.0)]
)
def test_duration_type_accepts_strings_and_numbers(value: object, seconds: float) -> None:
    assert _Model.model_validate({"wait": value}).wait == seconds


@pytest.mark.parametrize("value", ["10x", True, None, [1], {"s": 1}])
def test_duration_type_error_names_the_format(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        _Model.model_validate({"wait": value})
    (error,) = info.value.errors()
    assert error["type"] == "duration"
    assert DURATION_FORMAT in error["msg"]


def test_duration_type_keeps_bounds() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        _Model.model_validate({"wait": "0s"})


def test_duration_json_schema_is_a_pattern_or_a_number() -> None:
    schema = _Model.model_json_schema()["properties"]["wait"]
    kinds = {option["type"] for option in schema["anyOf"]}
    assert kinds == {"string", "number"}
