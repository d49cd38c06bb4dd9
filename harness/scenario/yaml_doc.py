"""YAML with line numbers: the parsed data plus the line of every key and list item.

PyYAML composes a node tree that keeps each node's position; we walk it once to map field
paths (`("faults", 0, "region")`) to 1-based line numbers, then construct the plain data from
the same tree. Syntax errors become a YamlSyntaxError with the line PyYAML points at.

Bounded input: anchors and aliases (`&slow` ... `<<: *slow`) are kept, since they save
repeating a fault, but a document is measured as it would be with every alias written out
BEFORE it is constructed, walked or validated, each of which would expand it. A "billion
laughs" of nested aliases (1 KB that stands for 10^9 values) is refused at the line of its
biggest alias, as are alias loops and nesting deeper than any scenario needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.scenario.problems import Path, Problem

# A scenario is a few hundred values (the biggest bundled one, game-day: 216) nested at most 6
# deep; these limits leave room for far bigger ones and keep the work to milliseconds.
MAX_VALUES = 20_000  # keys, values and list items, with every alias expanded
MAX_DEPTH = 40  # levels of nesting, with every alias expanded
_BIG_HINT = "a scenario is a few hundred values: write the repeated part out fewer times"


class YamlSyntaxError(Exception):
    """The text is not YAML (or too big as YAML); `line` is where the parser gave up."""

    def __init__(self, line: int, message: str, hint: str | None = None):
        super().__init__(message)
        self.line = line
        self.message = message
        self.hint = hint


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts what it composes, caps the nesting and notes every alias."""

    def __init__(self, text: str):
        super().__init__(text)
        self.values = 0
        self.depth = 0
        self.aliases: list[tuple[yaml.Node, int, str]] = []  # node, line of the alias, anchor

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if node is not None:
                self.aliases.append((node, _line(event.start_mark), str(event.anchor)))
            return node
        self.values += 1
        if self.values > MAX_VALUES:
            raise _limit(_line(event.start_mark), f"more than {MAX_VALUES} values", _BIG_HINT)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            message = f"nested more than {MAX_DEPTH} levels deep"
            raise _limit(_line(event.start_mark), message, "look for an unclosed [ or {")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError as err:  # more digits than Python converts (4300)
            message = f"unreadable integer: {err}".split(";")[0]
            raise yaml.constructor.ConstructorError(None, None, message, node.start_mark) from None


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _line(mark: Any) -> int:  # yaml.Mark, or the C extension's Mark
    return mark.line + 1 if mark is not None else 1


def _limit(line: int, message: str, hint: str) -> YamlSyntaxError:
    return YamlSyntaxError(line, message, hint)


@dataclass
class YamlDocument:
    """`data` as `yaml.safe_load` gives it, `lines` maps field paths to line numbers."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest parent present in the file (1 at worst)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


def read_yaml(text: str) -> YamlDocument:
    """Parse one YAML document, keeping line numbers; YamlSyntaxError if it is not YAML."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, loader.aliases)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        raise _syntax_error(err) from None
    except yaml.YAMLError as err:
        raise YamlSyntaxError(1, f"invalid YAML: {err}") from None
    finally:
        loader.dispose()
    doc = YamlDocument(data=data)
    if node is not None:
        doc.lines[()] = node.start_mark.line + 1
        _walk(node, (), doc)
    return doc


def _check_expansion(root: yaml.Node, aliases: list[tuple[yaml.Node, int, str]]) -> None:
    """YamlSyntaxError at the worst alias when the document, aliases written out, is too big,
    too deep or a loop. Iterative and memoised: linear in the nodes as written."""
    if not aliases:
        return  # composing counted and capped every value already
    measured = _measure(root)
    if isinstance(measured, yaml.Node):
        _node, line, anchor = next(a for a in aliases if a[0] is measured)
        message = f"alias *{anchor} refers to a node that contains it (a loop)"
        raise _limit(line, message, f"refer to a node outside the one anchored &{anchor}")
    values, depth = measured[id(root)]
    if values <= MAX_VALUES and depth <= MAX_DEPTH:
        return
    worst, line, anchor = max(aliases, key=lambda a: measured[id(a[0])])
    size, deep = measured[id(worst)]
    if values > MAX_VALUES:
        message = (
            f"YAML aliases expand this file to {values} values, more than {MAX_VALUES} "
            f"(*{anchor} here stands for {size})"
        )
        raise _limit(line, message, _BIG_HINT)
    message = f"YAML aliases nest this file {depth} levels deep, more than {MAX_DEPTH}"
    raise _limit(line, message + f" (*{anchor} here: {deep})", "use fewer aliases of aliases")


def _measure(root: yaml.Node) -> dict[int, tuple[int, int]] | yaml.Node:
    """{id(node): (values, depth)} of every node, aliases expanded; the node where a loop
    closes instead, if there is one."""
    done: dict[int, tuple[int, int]] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            sizes = [done[id(child)] for child in _children(node)]
            done[key] = (1 + sum(v for v, _ in sizes), 1 + max((d for _, d in sizes), default=0))
            on_path.discard(key)
        elif key in on_path:
            return node
        elif key not in done:
            on_path.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    return done


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _syntax_error(err: yaml.MarkedYAMLError) -> YamlSyntaxError:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark is not None else 1
    what = err.problem or "unreadable"
    context = f" ({err.context})" if err.context else ""
    return YamlSyntaxError(line, f"invalid YAML: {what}{context}")


def _walk(node: yaml.Node, path: Path, doc: YamlDocument) -> None:
    if isinstance(node, yaml.MappingNode):
        own: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = (*path, key_node.value)
            # Keys merged in with `<<: *anchor` come from earlier in the file: not duplicates.
            if key_node.start_mark.index >= node.start_mark.index:
                if key_node.value in own:
                    _duplicate(doc, child)
                own.add(key_node.value)
            doc.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), doc)


def _duplicate(doc: YamlDocument, path: Path) -> None:
    first = doc.lines[path]
    message = f"duplicate key {path[-1]!r} (also on line {first}); only one would count"
    doc.duplicates.append(Problem(path, message, "keep one of them"))
