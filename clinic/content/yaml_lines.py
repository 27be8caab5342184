"""Read YAML while keeping line numbers, so every problem points at the line to fix.

PyYAML's `compose` gives nodes with start marks; this module turns syntax errors into a line and
a plain-English fix, and offers small helpers to walk mappings and lists of nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class SyntaxProblem:
    line: int
    message: str
    fix: str


def line_of(node: yaml.Node) -> int:
    """1-based line where the node starts."""
    return node.start_mark.line + 1


def _fix_for(problem: str) -> str:
    if "'\\t'" in problem or "tab" in problem:
        return "replace the tab at the start of the line with spaces (YAML does not allow tabs)"
    if "mapping values are not allowed" in problem:
        return (
            "this line has a colon followed by a space inside unquoted text; "
            'put the whole text in double quotes, like "what is it: really"'
        )
    if "could not find expected ':'" in problem:
        return "a line is missing its colon (title:, answer:, sources:, examples:) or is indented differently from its neighbours"
    if "found unexpected end of stream" in problem or "found unknown escape" in problem:
        return (
            'a quotation mark is not closed; every text that starts with " must end with " on the same line'
        )
    if "expected <block end>" in problem or "did not find expected" in problem:
        return (
            'line this up with the lines around it: list items start with "  - " at the same indentation, '
            "and text in double quotes must not continue after the closing quote"
        )
    return 'compare this line with a working topic file: same indentation, "- " before each list item, quotes closed'


def compose(path: Path) -> tuple[yaml.Node | None, SyntaxProblem | None]:
    """The document's root node, or the syntax error with its line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, SyntaxProblem(1, f"the file is not UTF-8 text ({exc.reason})", "save the file as UTF-8")
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), None
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "unreadable YAML"
        if exc.context_mark and "quoted scalar" in (exc.context or ""):
            # An unclosed quote: PyYAML notices at the end of the file; the mistake is where it opened.
            line = exc.context_mark.line + 1
            return None, SyntaxProblem(
                line,
                "YAML syntax error: the quotation mark opened on this line is never closed",
                _fix_for("found unexpected end of stream"),
            )
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        detail = f"YAML syntax error: {problem}"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            detail += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        return None, SyntaxProblem(line, detail, _fix_for(problem))
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        return None, SyntaxProblem(1, f"YAML syntax error: {exc}", _fix_for(str(exc)))


def mapping_items(node: yaml.Node | None) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """(key text, key node, value node) for a mapping node; [] for anything else."""
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(str(k.value), k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]


def duplicate_keys(node: yaml.Node | None) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """(key, first key node, repeated key node): YAML keeps only the last one, silently."""
    seen: dict[str, yaml.Node] = {}
    repeated = []
    for key, key_node, _ in mapping_items(node):
        if key in seen:
            repeated.append((key, seen[key], key_node))
        else:
            seen[key] = key_node
    return repeated


def sequence_items(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def is_text(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode)


def is_plain_non_string(node: yaml.Node) -> bool:
    """A bare yes/no/true/123 that YAML reads as a boolean or a number, not as text."""
    return isinstance(node, yaml.ScalarNode) and node.style is None and node.tag != STR_TAG


def text_lines(node: yaml.ScalarNode) -> list[tuple[int, str]]:
    """(line, text) for each line of a literal block (`examples: |` in Rasa NLU files)."""
    if node.style in ("|", ">"):
        first = node.start_mark.line + 2  # the indicator's line, then the content
        return [(first + i, line) for i, line in enumerate(node.value.split("\n"))]
    return [(line_of(node), line) for line in node.value.split("\n")]
