"""A topic file read node by node, so every field keeps its line number.

`clinic.content.topics` loads topics for building the bot and stops at the first broken file;
this reader never stops: the checker and the preview use it to show what is wrong and where.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clinic.content.yaml_lines import SyntaxProblem, compose, line_of, mapping_items, sequence_items

FIELDS = ("title", "answer", "sources", "examples", "personal")


@dataclass
class Item:
    """One list entry (a source quote or an example question) and where it is."""

    line: int
    text: str
    node: yaml.Node


@dataclass
class TopicDoc:
    path: Path
    root: yaml.Node | None = None
    syntax: SyntaxProblem | None = None
    keys: dict[str, yaml.Node] = field(default_factory=dict)     # field name -> key node
    values: dict[str, yaml.Node] = field(default_factory=dict)   # field name -> value node
    lines: list[str] = field(default_factory=list)               # the file's raw lines

    @property
    def id(self) -> str:
        return self.path.stem

    def line(self, name: str, default: int = 1) -> int:
        return line_of(self.keys[name]) if name in self.keys else default

    def text(self, name: str) -> str:
        """A text field with white space collapsed, as the bot shows it ('' when missing)."""
        node = self.values.get(name)
        if not isinstance(node, yaml.ScalarNode) or node.value is None:
            return ""
        return " ".join(str(node.value).split())

    def items(self, name: str) -> list[Item]:
        found = []
        for node in sequence_items(self.values.get(name)):
            text = " ".join(str(node.value).split()) if isinstance(node, yaml.ScalarNode) else ""
            found.append(Item(line_of(node), text, node))
        return found

    @property
    def title(self) -> str:
        return self.text("title")

    @property
    def answer(self) -> str:
        return self.text("answer")

    @property
    def sources(self) -> list[str]:
        return [i.text for i in self.items("sources") if i.text]

    @property
    def examples(self) -> list[str]:
        return [i.text for i in self.items("examples") if i.text]

    def find_line(self, name: str, needle) -> int:
        """The first line inside field `name` whose raw text matches the compiled regex."""
        key, value = self.keys.get(name), self.values.get(name)
        if key is None or value is None:
            return self.line(name)
        for number in range(key.start_mark.line, value.end_mark.line + 1):
            if number < len(self.lines) and needle.search(self.lines[number]):
                return number + 1
        return self.line(name)


def read_topic(path: Path) -> TopicDoc:
    doc = TopicDoc(Path(path))
    try:
        doc.lines = doc.path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        doc.lines = []
    doc.root, doc.syntax = compose(doc.path)
    for name, key, value in mapping_items(doc.root):
        doc.keys[name] = key  # YAML keeps the last of repeated keys; so does this
        doc.values[name] = value
    return doc
