"""Build the project's small English spaCy pipeline from code and data in this repo.

No pretrained model is downloaded: the pipeline is blank English plus lookup lemmas
(from the `spacy-lookups-data` package) and an entity ruler whose terms come from
`data/terms.yml`. Rasa's SpacyNLP loads the saved pipeline by path.

Usage: python -m clinic_nlp.build_spacy [--terms data/terms.yml] [--out build/spacy_en_clinic]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import spacy
import yaml
from spacy.language import Language

DEFAULT_TERMS = Path("data/terms.yml")
DEFAULT_OUT = Path("build/spacy_en_clinic")


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
