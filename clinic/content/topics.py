"""The topic files in content/topics: one curated answer each, with its sources and example questions.

`read_topic` is the one reader of a topic file. It reads the file node by node, so every field
keeps its line number, and it never stops at a broken file: the checker and the preview use it
to show what is wrong and where. `load_topic` and `load_topics` turn what it read into the
`Topic` the build compiles into training data, and stop at the first broken file (the checker,
which `make publish` runs first, has reported it by then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clinic import faq
from clinic.content.yaml_lines import SyntaxProblem, compose, line_of, mapping_items, sequence_items

TOPICS_DIR = Path(__file__).resolve().parents[2] / "content" / "topics"


@dataclass(frozen=True)
class Topic:
    """A curated answer. `id` is the file name; Rasa knows it by the names in clinic.faq."""

    id: str
    title: str
    answer: str
    sources: list[str]
    examples: list[str]
    personal: bool = False
    path: Path = field(default=Path(), compare=False)

    @property
    def intent_response_key(self) -> str:
        return faq.intent_response_key(self.id)

    @property
    def response_name(self) -> str:
        return faq.response_name(self.id)


class TopicFileError(ValueError):
    """A topic file that cannot be read (`make check-content` says where and how to fix it)."""


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
    keys: dict[str, yaml.Node] = field(default_factory=dict)  # field name -> key node
    values: dict[str, yaml.Node] = field(default_factory=dict)  # field name -> value node
    lines: list[str] = field(default_factory=list)  # the file's raw lines

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

    def topic(self) -> Topic:
        """The values as YAML reads them (what the bot is built from); TopicFileError if unreadable."""
        if self.syntax is not None:
            raise TopicFileError(f"{self.path}:{self.syntax.line}: {self.syntax.message}")
        raw = (yaml.SafeLoader("").construct_document(self.root) if self.root is not None else None) or {}
        if not isinstance(raw, dict):
            raise TopicFileError(f"{self.path}: a topic file must be a mapping (title:, answer:, ...)")
        return Topic(
            id=self.id,
            title=str(raw.get("title", "")).strip(),
            answer=" ".join(str(raw.get("answer", "")).split()),
            sources=[str(s) for s in raw.get("sources") or []],
            examples=[str(e).strip() for e in raw.get("examples") or []],
            personal=bool(raw.get("personal", False)),
            path=self.path,
        )

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


def load_topic(path: Path) -> Topic:
    """One topic as the build uses it; TopicFileError for a broken file."""
    return read_topic(path).topic()


def load_topics(directory: Path = TOPICS_DIR) -> list[Topic]:
    """All topics, sorted by id so builds are reproducible."""
    return [load_topic(p) for p in sorted(directory.glob("*.yml"))]
