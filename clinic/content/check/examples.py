"""The same example question must not teach the bot two different things.

Compares the topics' examples with each other and with the hand-written NLU files
(data/nlu/*.yml except the generated faq.yml), ignoring case and spacing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from clinic.content.check.report import Problem, error
from clinic.content.topics import TopicDoc
from clinic.content.yaml_lines import compose, line_of, mapping_items, sequence_items, text_lines

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    path: Path
    line: int
    owner: str  # "topic iv_risks" or "intent greet"
    text: str

    @property
    def key(self) -> str:
        return normalise(self.text)


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def topic_examples(doc: TopicDoc) -> list[Example]:
    return [Example(doc.path, i.line, f"topic {doc.id}", i.text) for i in doc.items("examples") if i.text]


def nlu_examples(path: Path) -> tuple[list[Example], list[Problem]]:
    """Examples of a Rasa NLU file with their lines; a syntax error is a problem too."""
    root, syntax = compose(path)
    if syntax:
        return [], [
            error(path, syntax.line, syntax.message, syntax.fix + " (this is a developer's file: tell them)")
        ]
    found = []
    for key, _, value in mapping_items(root):
        if key != "nlu":
            continue
        for block in sequence_items(value):
            fields = {k: v for k, _, v in mapping_items(block)}
            intent = fields.get("intent")
            examples = fields.get("examples")
            if not isinstance(intent, yaml.ScalarNode) or examples is None:
                continue
            owner = f"intent {intent.value}"
            if isinstance(examples, yaml.ScalarNode):
                for line, raw in text_lines(examples):
                    text = raw.strip()
                    if text.startswith("- "):
                        found.append(Example(path, line, owner, ANNOTATION.sub(r"\1", text[2:].strip())))
            for entry in sequence_items(examples):  # the long form: `- text: ...`
                text_node = dict((k, v) for k, _, v in mapping_items(entry)).get("text")
                if isinstance(text_node, yaml.ScalarNode):
                    found.append(
                        Example(path, line_of(text_node), owner, ANNOTATION.sub(r"\1", text_node.value))
                    )
    return found, []


def duplicate_problems(topics: list[Example], nlu: list[Example], shown) -> list[Problem]:
    """Each repeat of an example in the topic files is an error at the repeat's line.

    `shown(path)` turns a path into what the editor sees (relative to the project).
    """
    problems = []
    nlu_by_key: dict[str, Example] = {}
    for example in nlu:
        nlu_by_key.setdefault(example.key, example)
    first: dict[str, Example] = {}
    for example in topics:
        earlier = first.get(example.key)
        if earlier is None:
            first[example.key] = example
        elif earlier.owner == example.owner:
            problems.append(
                error(
                    example.path,
                    example.line,
                    f'the example "{example.text}" is listed twice in this topic (also on line {earlier.line})',
                    "delete one of the two lines",
                )
            )
        else:
            problems.append(
                error(
                    example.path,
                    example.line,
                    f'the example "{example.text}" is also an example of {earlier.owner} '
                    f"({shown(earlier.path)}:{earlier.line}); the bot cannot learn two answers for one question",
                    "keep it in the topic that answers it best and delete it from the other, or reword one of them",
                )
            )
        other = nlu_by_key.get(example.key)
        if other is not None:
            problems.append(
                error(
                    example.path,
                    example.line,
                    f'the example "{example.text}" is also an example of {other.owner} ({shown(other.path)}:{other.line})',
                    "delete it here if the bot should answer it that way, or ask the developer to remove it from "
                    f"{shown(other.path)}",
                )
            )
    return problems
