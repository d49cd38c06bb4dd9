"""PromQL syntax, checked at `validate` (pure): a `promql:` objective that cannot parse is a
scenario error with its position, not an SLO that errors after the whole run.

The parser is promql-parser (the Rust crate GreptimeDB maintains, Prometheus's grammar). Its
errors carry no position, so we find one: the unmatched bracket for bracket errors, the token an
error quotes, or else where the longest prefix that parses ends (the query is fine up to there).

The runner's later check against the real Prometheus can send `sample_query(template)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser

from harness.fields.limits import MAX_PROMQL_CHARS
from harness.scenario.problems import Problem
from harness.scenario.slo_model import SLO

WINDOW = "$window"  # the placeholder of harness.slo.promql, replaced by the phase's length
# A valid duration exactly as long as the placeholder, so columns in the substituted query are
# the user's columns (and `1m1s1ms` is plainly not what anyone wrote).
_SAME_LENGTH_WINDOW = "1m1s1ms"
SAMPLE_WINDOW = "1s"
_PREFIX_BUDGET = 1_000  # parses spent looking for the error's position (0.1 ms each)
_LOCATED = 10  # broken queries of one file whose position is looked for: 1 s at worst
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_QUOTED = re.compile(r"'([^']+)'$|: (\S+)$")


@dataclass(frozen=True)
class PromqlError:
    """A query that does not parse: the parser's message and where (1-based; None: unknown)."""

    message: str
    line: int | None
    column: int | None
    near: str

    def __str__(self) -> str:
        if self.column is None:
            return f"invalid PromQL: {self.message}"
        line = f"line {self.line}, " if self.line and self.line > 1 else ""
        near = f"near {self.near!r}" if self.near else "at the end of the query"
        return f"invalid PromQL at {line}column {self.column} ({near}): {self.message}"


def sample_query(template: str, window: str = SAMPLE_WINDOW) -> str:
    """The query with `$window` replaced by a valid duration: what Prometheus can be sent."""
    return template.replace(WINDOW, window)


def promql_error(template: str, *, locate: bool = True) -> PromqlError | None:
    """None when the query (with `$window` as any duration) parses; why otherwise, and where
    unless `locate` is false."""
    query = sample_query(template, _SAME_LENGTH_WINDOW)
    message = _parse_error(query)
    if message is None:
        return None
    index = _position(query, message) if locate else None
    if index is None:
        return PromqlError(message, None, None, "")
    line = template.count("\n", 0, index) + 1
    column = index - (template.rfind("\n", 0, index) + 1) + 1
    near = template[index : index + 24].split("\n")[0]
    return PromqlError(message, line, column, near)


def promql_problems(slos: object) -> list[Problem]:
    """A Problem at `slos[N].promql` for every own query that does not parse. `slos` is the
    file's `slos` as read (so these come with every other problem, not after them) or a list
    of SLO models."""
    problems: list[Problem] = []
    for index, slo in enumerate(slos if isinstance(slos, list | tuple) else []):
        query = slo.promql if isinstance(slo, SLO) else _raw_promql(slo)
        locate = len(problems) < _LOCATED  # finding the place costs up to 0.1 s a query
        error = promql_error(query, locate=locate) if query is not None else None
        if error is not None:
            hint = f"fix the query there; {WINDOW} stands for the phase's length, e.g. 30s"
            problems.append(Problem(("slos", index, "promql"), str(error), hint))
    return problems


def _raw_promql(slo: object) -> str | None:
    query = slo.get("promql") if isinstance(slo, dict) else None
    # One over the length bound is already a problem; parsing it would only cost time.
    return query if isinstance(query, str) and 0 < len(query) <= MAX_PROMQL_CHARS else None


def _parse_error(query: str) -> str | None:
    try:
        promql_parser.parse(query)
    except ValueError as err:
        return str(err).strip() or "invalid promql query"
    return None


def _position(query: str, message: str) -> int | None:
    """The index the parser's `message` is about, found as the module docstring says."""
    code = _blank_strings(query)
    if any(word in message for word in ("parenthes", "brace", "bracket")):
        unmatched = _unmatched_bracket(code)
        if unmatched is not None:
            return unmatched
    token = _QUOTED.search(message)
    if token is not None:
        found = _find_token(code, token.group(1) or token.group(2))
        if found is not None:
            return found
    return _after_longest_valid_prefix(query, code)


def _blank_strings(query: str) -> str:
    """`query` with the inside of every string literal blanked: brackets and names in label
    values are not the query's."""
    chars = list(query)
    quote: str | None = None
    for index, char in enumerate(query):
        if quote is not None:
            if char == quote and query[index - 1] != "\\":
                quote = None
            else:
                chars[index] = " "
        elif char in "\"'`":
            quote = char
    return "".join(chars)


def _unmatched_bracket(code: str) -> int | None:
    """The first closer without an opener, else the outermost opener never closed."""
    stack: list[int] = []
    for index, char in enumerate(code):
        if char in _OPENERS:
            stack.append(index)
        elif char in _OPENERS.values():
            if not stack or _OPENERS[code[stack[-1]]] != char:
                return index
            stack.pop()
    return stack[0] if stack else None


def _find_token(code: str, token: str) -> int | None:
    if re.fullmatch(r"\w+", token):
        match = re.search(rf"\b{re.escape(token)}\b", code)
        return match.start() if match else None
    found = code.find(token)
    return found if found >= 0 else None


def _after_longest_valid_prefix(query: str, code: str) -> int | None:
    """Where the longest prefix ends that parses once its open brackets are closed: the query
    reads fine up to there. None when the budget runs out first."""
    closers = _closers_before_each_index(code)
    low = max(0, len(query) - _PREFIX_BUDGET)
    for end in range(len(query) - 1, low, -1):
        if _parse_error(query[:end] + closers[end]) is None:
            rest = query[end:]
            return end + (len(rest) - len(rest.lstrip()))
    return 0 if low == 0 else None


def _closers_before_each_index(code: str) -> list[str]:
    """For each index, the brackets that close what is open before it (innermost first)."""
    stack: list[str] = []
    closers = [""]
    for char in code:
        if char in _OPENERS:
            stack.append(_OPENERS[char])
        elif stack and char == stack[-1]:
            stack.pop()
        closers.append("".join(reversed(stack)))
    return closers
