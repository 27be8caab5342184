"""Checks on one topic file: its fields, its quotes, and how its answer reads."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import yaml

from clinic.content import readability
from clinic.content.article import quote_in_article
from clinic.content.check.report import Problem, error, warning
from clinic.content.quotes import lookalike_reason, suggest
from clinic.content.topics import FIELDS, TopicDoc
from clinic.content.yaml_lines import duplicate_keys, is_plain_non_string, line_of

MIN_EXAMPLES = 10
MAX_WORDS = 70  # more than this does not fit the chat window: error
COMFORTABLE_WORDS = 55  # more than this makes visitors scroll: warning
MIN_QUOTE_WORDS = 4

# Words that promise more than the article does. Allowed only when a quoted source says it too.
PROMISE_WORDS = {
    "cure": r"\bcure\b",
    "cures": r"\bcures\b",
    "guaranteed": r"\bguaranteed\b",
    "guarantee": r"\bguarantee\b",
    "100%": r"(?<![\d.])100\s*%",
    "FDA approved": r"\bFDA[\s-]+approved\b",
    "no risk": r"\bno\s+risks?\b",
    "risk-free": r"\brisk[\s-]?free\b",
    "proven to": r"\bproven\s+to\b",
    "miracle": r"\bmiracles?\b",
}

FIELD_HELP = {
    "title": 'add a line `title: <a short name for the topic>` at the top; visitors see it on "Did you mean" buttons',
    "answer": "add `answer: >-` followed by the answer, indented by two spaces, in plain words (grade 8 or below)",
    "sources": 'add `sources:` with at least one line `  - "<sentence copied word for word from content/article.txt>"`',
    "examples": f"add `examples:` with at least {MIN_EXAMPLES} questions a visitor might type, one per line starting with `  - `",
}


def check_topic(doc: TopicDoc, article: Path) -> list[Problem]:
    if doc.syntax:
        return [error(doc.path, doc.syntax.line, doc.syntax.message, doc.syntax.fix)]
    if not isinstance(doc.root, yaml.MappingNode):
        return [
            error(
                doc.path,
                1,
                "this topic file has no fields (title:, answer:, sources:, examples:)",
                "copy the layout of another file in content/topics and fill it in",
            )
        ]
    problems = _structure(doc)
    problems += _answer(doc, article)
    problems += _sources(doc, article)
    problems += _examples(doc)
    return problems


def _structure(doc: TopicDoc) -> list[Problem]:
    problems = []
    for key, first, again in duplicate_keys(doc.root):
        problems.append(
            error(
                doc.path,
                line_of(again),
                f"`{key}:` appears twice (also on line {line_of(first)}); only the last one is used",
                f"keep one `{key}:` and delete the other",
            )
        )
    for key, key_node in doc.keys.items():
        if key not in FIELDS:
            close = difflib.get_close_matches(key, FIELDS, n=1)
            hint = f"did you mean `{close[0]}:`? " if close else ""
            problems.append(
                warning(
                    doc.path,
                    line_of(key_node),
                    f"unknown field `{key}:` is ignored",
                    f"{hint}the fields are {', '.join(FIELDS)}",
                )
            )
    for name in ("title", "answer", "sources", "examples"):
        node = doc.values.get(name)
        empty = node is None or (isinstance(node, yaml.ScalarNode) and not str(node.value).strip())
        if name not in doc.keys:
            problems.append(error(doc.path, 1, f"the topic has no {name}", FIELD_HELP[name]))
        elif empty:
            problems.append(
                error(
                    doc.path,
                    doc.line(name),
                    f"the topic has no {name} (`{name}:` is empty)",
                    FIELD_HELP[name],
                )
            )
        elif name in ("sources", "examples") and not isinstance(node, yaml.SequenceNode):
            problems.append(
                error(
                    doc.path,
                    doc.line(name),
                    f"`{name}:` should be a list",
                    f"put each entry on its own line under `{name}:`, starting with `  - `",
                )
            )
        elif name in ("title", "answer") and not isinstance(node, yaml.ScalarNode):
            problems.append(
                error(
                    doc.path,
                    doc.line(name),
                    f"`{name}:` should be plain text",
                    f"write the {name} as text; if it contains `: ` put it in double quotes",
                )
            )
    personal = doc.values.get("personal")
    if personal is not None and not (
        isinstance(personal, yaml.ScalarNode) and personal.tag.endswith(":bool")
    ):
        problems.append(
            warning(
                doc.path,
                doc.line("personal"),
                "`personal:` should be true or false",
                "write `personal: true` for personal decisions (the bot also offers a care coordinator), or delete the line",
            )
        )
    return problems


def _answer(doc: TopicDoc, article: Path) -> list[Problem]:
    answer = doc.answer
    if not answer:
        return []
    problems = []
    line = doc.line("answer")
    grade = readability.grade(answer)
    if grade > readability.MAX_GRADE:
        words = readability.words(answer)
        sentences = readability.sentence_count(answer)
        syllables = sum(readability.syllables(w) for w in words)
        long_words = sorted(
            {w for w in words if readability.syllables(w) >= 4}, key=lambda w: -readability.syllables(w)
        )
        hard = f"; the longest words: {', '.join(long_words[:4])}" if long_words else ""
        problems.append(
            error(
                doc.path,
                line,
                f"reading grade {grade:.1f} is above {readability.MAX_GRADE:.0f} "
                f"(Flesch-Kincaid grade = 0.39 × words per sentence + 11.8 × syllables per word − 15.59; "
                f"this answer: {len(words)} words, {sentences} sentences, {syllables} syllables)",
                f"use shorter sentences (15 words or fewer) and everyday words{hard}; "
                'for example "through a vein" instead of "intravenously"',
            )
        )
    count = len(answer.split())
    if count > MAX_WORDS:
        problems.append(
            error(
                doc.path,
                line,
                f"the answer has {count} words; the chat window shows about {COMFORTABLE_WORDS} comfortably and {MAX_WORDS} at most",
                "shorten it, or split it into two topics",
            )
        )
    elif count > COMFORTABLE_WORDS:
        problems.append(
            warning(
                doc.path,
                line,
                f"the answer has {count} words; visitors must scroll past {COMFORTABLE_WORDS}",
                f"try to say it in {COMFORTABLE_WORDS} words or fewer",
            )
        )
    sources = " ".join(doc.sources)
    for word, pattern in PROMISE_WORDS.items():
        regex = re.compile(pattern, re.IGNORECASE)
        if regex.search(answer) and not regex.search(sources):
            problems.append(
                error(
                    doc.path,
                    doc.find_line("answer", regex),
                    f'the answer says "{word}", a promise the quoted article text does not make',
                    'say only what the article says (for example "may help", "has shown promise", "is thought to be safer"); '
                    f'"{word}" is allowed only when a quoted source uses it',
                )
            )
    return problems


def _sources(doc: TopicDoc, article: Path) -> list[Problem]:
    problems = []
    for item in doc.items("sources"):
        if not isinstance(item.node, yaml.ScalarNode) or not item.text:
            problems.append(
                error(
                    doc.path,
                    item.line,
                    "this source is not a quote",
                    'write the quote in double quotes on one line: `  - "<words copied from the article>"`',
                )
            )
            continue
        if quote_in_article(item.text, article):
            if len(item.text.split()) < MIN_QUOTE_WORDS:
                problems.append(
                    warning(
                        doc.path,
                        item.line,
                        f'the quote "{item.text}" is too short to show where the answer comes from',
                        "quote the whole sentence (or the part of it) the answer rests on",
                    )
                )
            continue
        reason = lookalike_reason(item.text, article)
        hint = suggest(item.text, article)
        if reason is None and hint.curly_apostrophe:
            reason = "the article uses curly apostrophes (’) where the quote has straight ones ('), and other words differ"
        if reason:
            problems.append(
                error(
                    doc.path,
                    item.line,
                    f"the quote is not in the article word for word: {reason}; {hint.describe()}",
                    "copy the words from content/article.txt instead of retyping them "
                    "(the article's apostrophes and quotation marks are curly: ’ “ ”)",
                )
            )
        else:
            problems.append(
                error(
                    doc.path,
                    item.line,
                    f"the quote is not in the article word for word; {hint.describe()}",
                    "copy the words from content/article.txt exactly (line breaks and extra spaces do not matter); "
                    "every answer must rest on the article's own words",
                )
            )
    return problems


def _examples(doc: TopicDoc) -> list[Problem]:
    problems = []
    items = doc.items("examples")
    if "examples" in doc.keys and isinstance(doc.values.get("examples"), yaml.SequenceNode):
        usable = [i for i in items if i.text]
        if len(usable) < MIN_EXAMPLES:
            problems.append(
                error(
                    doc.path,
                    doc.line("examples"),
                    f"only {len(usable)} example questions; at least {MIN_EXAMPLES} are needed",
                    "add questions in the words visitors use, including short ones and common misspellings",
                )
            )
    for item in items:
        node = item.node
        if isinstance(node, yaml.MappingNode):
            problems.append(
                error(
                    doc.path,
                    item.line,
                    "this example was read as a label and a value because it contains `: `",
                    'put the whole question in double quotes, like `  - "knee pain: can it help"`',
                )
            )
        elif not isinstance(node, yaml.ScalarNode) or not item.text:
            problems.append(
                error(
                    doc.path,
                    item.line,
                    "this example is empty or not a question",
                    "write one question per line after `  - `, or delete the line",
                )
            )
        elif is_plain_non_string(node):
            problems.append(
                warning(
                    doc.path,
                    item.line,
                    f"YAML reads the example `{node.value}` as a yes/no or a number, not as text",
                    f'put it in double quotes: `  - "{node.value}"`',
                )
            )
        elif node.style is None and node.end_mark.line > node.start_mark.line:
            problems.append(
                warning(
                    doc.path,
                    item.line,
                    f'this example runs onto the next line and was read as "{item.text}"',
                    "start every example on its own line with `  - `, lined up with the others",
                )
            )
    return problems
