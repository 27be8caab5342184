"""Build the project's small English spaCy pipeline from code and data in this repo.

No pretrained model is downloaded: the pipeline is blank English plus lookup lemmas
(from the `spacy-lookups-data` package) and an entity ruler whose terms come from
`content/terms.yml`. Rasa's SpacyNLP loads the saved pipeline by path.

One change to spaCy's English tokenizer bounds its work per message: a run of more than
`LONG_RUN` characters without a space is kept as one token. spaCy peels punctuation, symbols
and emoji off both ends of a run one at a time, and each peel searches the rest of the run, so
its cost grows with the square of the run's length (5,000 emoji in a row took over 2 s). No word
is that long; a run that long is a flood of symbols, a pasted code or a URL, and a URL is kept
as one token anyway. The rule is saved with the pipeline (`token_match`), so Rasa loads it.

Usage: python -m clinic.nlp.build_spacy [--terms content/terms.yml] [--out build/spacy_en_clinic]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import spacy
import yaml
from spacy.language import Language

DEFAULT_TERMS = Path("content/terms.yml")
DEFAULT_OUT = Path("build/spacy_en_clinic")
LONG_RUN = 32  # characters without a space; longer runs are one token (see the module docstring)


def load_terms(path: Path) -> dict[str, dict[str, list[str]]]:
    """Read `entity type -> canonical value -> [terms]` from the editors' term file."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    return document.get("terms", {})


def ruler_patterns(terms: dict[str, dict[str, list[str]]]) -> list[dict]:
    """One phrase pattern per term; the pattern id carries the canonical value."""
    patterns = []
    for label, values in terms.items():
        for value, phrases in values.items():
            for phrase in phrases:
                patterns.append({"label": label, "pattern": str(phrase).lower(), "id": value})
    return patterns


def build_pipeline(terms: dict[str, dict[str, list[str]]]) -> Language:
    """Blank English with lookup lemmas and the entity ruler (case-insensitive)."""
    nlp = spacy.blank("en")
    # spaCy tries `token_match` on the rest of a run before each peel: a long run stops at once.
    nlp.tokenizer.token_match = re.compile(rf"\S{{{LONG_RUN + 1}}}").match
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the lookup tables from spacy-lookups-data (installed, not downloaded)
    ruler.add_patterns(ruler_patterns(terms))
    nlp.meta["name"] = "en_clinic"
    nlp.meta["description"] = "Blank English + lookup lemmas + the clinic's term ruler"
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=Path, default=DEFAULT_TERMS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    nlp = build_pipeline(load_terms(args.terms))
    args.out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.out)
    print(f"spaCy pipeline written to {args.out} ({len(nlp.get_pipe('entity_ruler'))} terms)")


if __name__ == "__main__":
    main()
