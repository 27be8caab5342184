"""Mask personal details in visitors' messages and group messages worded alike."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

from clinic.contact import mask_contact_details

STOPWORDS = set(
    """
a an the is are was were be been am do does did can could will would should shall may might must
i me my mine you your yours we our it its this that these those there here of to in on at for with
about from by and or but so if then than as what how why when where which who whom whose
please just really any some tell know get got have has had thing things stuff
""".split()
)

SAME_WORDS = 0.5  # half the meaningful words shared (token-set Jaccard)
SAME_WORD_SPELLING = 0.8  # "diabetis" is "diabetes": difflib ratio between two words
SAME_SPELLING = 0.88  # messages of stopwords only ("what is it"): difflib ratio of the whole


def normalise(text: str) -> str:
    text = mask_contact_details(text).lower().replace("’", "'")
    text = re.sub(r"[^\w\s'\[\]]", " ", text)
    return " ".join(text.split())


def tokens(normalised: str) -> frozenset[str]:
    words = set()
    for word in normalised.replace("'s ", " ").split():
        word = word.strip("'")
        if word in STOPWORDS or not word:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    return min(len(a), len(b)) >= 4 and difflib.SequenceMatcher(None, a, b).ratio() >= SAME_WORD_SPELLING


def similar(a: str, b: str) -> bool:
    """Worded alike: enough meaningful words in common, small typos forgiven."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= SAME_SPELLING
    shared = min(len(ta), len(tb), sum(1 for word in ta if any(_same_word(word, other) for other in tb)))
    return shared / (len(ta) + len(tb) - shared) >= SAME_WORDS


@dataclass
class Group:
    """Messages worded alike: how often, in how many conversations, and how the bot replied."""

    key: str
    wordings: Counter = field(default_factory=Counter)  # masked message -> count
    replies: Counter = field(default_factory=Counter)  # reply kind -> count
    senders: set = field(default_factory=set)
    first_seen: float = float("inf")
    last_seen: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.wordings.values())

    @property
    def wording(self) -> str:
        return self.wordings.most_common(1)[0][0]

    @property
    def other_wordings(self) -> list[str]:
        return [w for w, _ in self.wordings.most_common()[1:]]

    @property
    def reply(self) -> str:
        return ", ".join(kind for kind, _ in self.replies.most_common())


@dataclass(frozen=True)
class Message:
    sender: str
    timestamp: float
    text: str  # already masked
    reply: str


def group_messages(messages: list[Message]) -> list[Group]:
    """Greedy clustering, most frequent wording first; groups sorted by count, then recency."""
    by_key: dict[str, list[Message]] = {}
    for message in messages:
        by_key.setdefault(normalise(message.text), []).append(message)
    groups: list[Group] = []
    for key in sorted(by_key, key=lambda k: (-len(by_key[k]), k)):
        home = next((g for g in groups if similar(key, g.key)), None)
        if home is None:
            home = Group(key)
            groups.append(home)
        for message in by_key[key]:
            home.wordings[" ".join(message.text.split())] += 1
            home.replies[message.reply] += 1
            home.senders.add(message.sender)
            home.first_seen = min(home.first_seen, message.timestamp)
            home.last_seen = max(home.last_seen, message.timestamp)
    return sorted(groups, key=lambda g: (-g.count, -len(g.senders), -g.last_seen, g.key))
