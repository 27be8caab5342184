"""Read the clinic's terms back out of a spaCy doc (shared by the extractor and featurizer)."""

from __future__ import annotations

from collections.abc import Iterator

from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message


def term_spans(message: Message) -> Iterator[tuple[str, str, int, int]]:
    """(entity type, canonical value, start, end) for each term the entity ruler found."""
    doc: object | None = message.get(SPACY_DOCS[TEXT])
    if doc is None:
        return
    for ent in doc.ents:  # type: ignore[attr-defined]
        yield ent.label_, ent.ent_id_ or ent.text.lower(), ent.start_char, ent.end_char
