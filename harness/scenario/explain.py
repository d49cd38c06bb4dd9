"""pydantic's validation errors, rewritten as Problems a person can act on.

Paths lose pydantic's internals (the fault's tag, `[key]`), messages lose its URLs and class
names, and hints list what is valid: the keys of the mapping, the fault types, the allowed
values. Names checked by our own types (regions, links, services) bring their hint along in
the error's context.
"""

from __future__ import annotations

import difflib
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from harness.faults.spec import SPECS
from harness.fields.limits import bound_hint, is_limit
from harness.fields.names import valid_list
from harness.scenario.problems import Path, Problem

_NOT_A_MAPPING = {"model_type", "model_attributes_type", "dict_type", "dataclass_type"}
_PAST_A_LIMIT = {"less_than_equal", "less_than", "too_long"}


def explain(err: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Every error of `err` (raised validating `root`) as one or more Problems."""
    problems: list[Problem] = []
    for detail in err.errors(include_url=False):
        problems += _explain_one(detail, root)
    return problems


def _explain_one(detail: ErrorDetails, root: type[BaseModel]) -> list[Problem]:
    kind, loc, ctx = detail["type"], detail["loc"], detail.get("ctx") or {}
    path = clean_path(loc)
    if kind == "scenario_checks":
        return [Problem(*p) for p in ctx["problems"]]
    if kind == "extra_forbidden":
        keys = field_keys(_model_at(loc[:-1], root))
        hint = valid_list("keys here", keys) if keys else None
        return [Problem(path, unknown_key(path[-1], keys), hint)]
    if kind == "missing":
        return [Problem(path, f"missing required key {path[-1]!r}")]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        what = f"unknown fault type {ctx.get('tag')!r}" if "tag" in ctx else "missing key 'type'"
        return [Problem((*path, "type"), what, valid_list("fault types", list(SPECS)))]
    if kind == "literal_error":
        return [_literal(path, loc, detail["input"], ctx)]
    if kind in _NOT_A_MAPPING:
        return [Problem(path, f"expected a mapping (key: value), got {_kind(detail['input'])}")]
    if kind == "list_type":
        return [Problem(path, f"expected a list, got {_kind(detail['input'])}")]
    if kind in _PAST_A_LIMIT and any(is_limit(v) for v in ctx.values()):
        return [Problem(path, _message(detail), bound_hint(path[-1] if path else None))]
    return [Problem(path, _message(detail), ctx.get("hint"))]


def unknown_key(key: object, valid: list[str]) -> str:
    """`unknown key 'latency' (did you mean 'latency_ms'?)`: the nearest valid key, if any is
    near enough (difflib's ratio of 0.6: one or two letters wrong, or a missing suffix)."""
    near = difflib.get_close_matches(str(key), valid, n=1) if isinstance(key, str) else []
    return f"unknown key {key!r}" + (f" (did you mean {near[0]!r}?)" if near else "")


def _literal(path: Path, loc: tuple[Any, ...], value: Any, ctx: dict[str, Any]) -> Problem:
    expected = f"expected {ctx.get('expected')}"
    if "[key]" in loc:  # a key of a mapping with fixed keys (tasks, geography)
        return Problem(path, unknown_key(value, re.findall(r"'([^']*)'", expected)), expected)
    return Problem(path, f"invalid value {value!r}", expected)


def _message(detail: ErrorDetails) -> str:
    message = detail["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = detail["input"]
    if detail["type"] in ("duration", "unknown_name") or isinstance(value, dict | list):
        return message
    return f"{message}, got {_kind(value)}"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def clean_path(loc: tuple[int | str, ...]) -> Path:
    """pydantic's `loc` as the user's path: `("faults", 0, "latency", "link")` -> `faults[0].link`
    (the tag pydantic adds for the union member is dropped, and so is `[key]`)."""
    path: list[int | str] = []
    for position, part in enumerate(loc):
        if part == "[key]":
            continue
        if position == 2 and _is_fault_tag(loc):
            continue
        path.append(part)
    return tuple(path)


def _is_fault_tag(loc: tuple[int | str, ...]) -> bool:
    """Whether loc[2] is the fault type's tag (only there: a key named like a fault type,
    `latency` in a latency fault, is the user's)."""
    head = loc[:3]
    return len(head) == 3 and head[0] == "faults" and isinstance(head[1], int) and head[2] in SPECS


def field_keys(model: type[BaseModel] | None) -> list[str]:
    """The keys a mapping of `model` accepts, as written in files (aliases included)."""
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(loc: tuple[int | str, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The model validating the mapping at pydantic's `loc` (None for plain dicts)."""
    current: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if part in SPECS and current is _FAULT_UNION:
            current = SPECS[part]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            current = _field_model(current, part)
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_FAULT_UNION = object()  # marker: the next loc part is a fault type's tag


def _field_model(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return _inner_model(info.annotation)
    return None


def _inner_model(annotation: Any) -> Any:
    """The model inside `list[...]`, `X | None`, `Annotated[...]`; the union marker for faults."""
    origin = get_origin(annotation)
    if origin is Annotated or origin is list:
        return _inner_model(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        models = [
            a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if len(models) == 1:
            return models[0]
        return _FAULT_UNION if models else None
    return annotation
