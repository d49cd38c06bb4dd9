"""YAML with line numbers: the parsed data plus the line of every key and list item.

PyYAML composes a node tree that keeps each node's position; we walk it once to map field
paths (`("faults", 0, "region")`) to 1-based line numbers, then construct the plain data from
the same tree. Syntax errors become a YamlSyntaxError with the line PyYAML points at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.scenario.problems import Path, Problem


class YamlSyntaxError(Exception):
    """The text is not YAML; `line` is where the parser gave up."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


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
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
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
