"""What a message means to the encoder: its segments, their embeddings, and the question's.

One place that turns text into embeddings, used by the featurizer at run time and by the
decisions' training and calibration, so both see exactly the same vectors.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from clinic.nlp.segments import question_segments, split_segments
from clinic.nlp.sentence_encoder import DIMENSION, MAX_TOKENS, SentenceEncoder, shared_encoder

# What turns text into embeddings: this module, the segments, the encoder and its built graph.
READING_FILES = [
    Path(__file__),
    Path(__file__).with_name("segments.py"),
    Path(__file__).with_name("sentence_encoder.py"),
]
TOKEN_BUDGET = 144  # word pieces encoded per message, all its segments together (24 each for 6)


@dataclass(frozen=True)
class Meaning:
    segments: list[str]
    vectors: np.ndarray  # [len(segments), DIMENSION], unit rows
    question: np.ndarray  # [DIMENSION], unit length (zeros for an empty message)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def encoded_texts(segments: list[str], encoder: SentenceEncoder) -> list[str]:
    """What the encoder reads of each segment: all of it (up to MAX_TOKENS), unless together they
    would pass TOKEN_BUDGET; then an equal share each. The encoder's time grows with the word
    pieces it reads, so this bounds a message's cost on any CPU (six segments of made-up words
    took 66 ms on one without VNNI, against a 50 ms budget). 144 keeps 24 word pieces of each of
    six segments, about 18 words: `make evaluate` gave the same figures on every set as without
    a budget, where 96 (16 each) lost long messages' answers and 120 gave a long calm message the
    crisis reply."""
    return within_share(segments, len(segments), encoder)


def within_share(texts: list[str], segments: int, encoder: SentenceEncoder) -> list[str]:
    """`texts` clipped to what the encoder reads of each segment of a message of `segments`."""
    share = min(MAX_TOKENS, TOKEN_BUDGET // max(segments, 1))
    return texts if share >= MAX_TOKENS else [encoder.clip(text, share) for text in texts]


def read_meaning(text: str, encoder: SentenceEncoder) -> Meaning:
    segments = split_segments(text)
    if not segments:
        return Meaning([], np.zeros((0, DIMENSION), np.float32), np.zeros(DIMENSION, np.float32))
    vectors = encoder.encode(encoded_texts(segments, encoder))
    asking = set(question_segments(segments))
    chosen = [v for s, v in zip(segments, vectors, strict=True) if s in asking]
    return Meaning(segments, vectors, _unit(np.mean(chosen, axis=0)).astype(np.float32))


def encode_corpus(texts: list[str], encoder: SentenceEncoder) -> np.ndarray:
    """Training corpora: one row per text, outside the run-time cache (short texts, one segment)."""
    rows = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    for index, text in enumerate(texts):
        rows[index] = encoder.embed_uncached([text])[0]
    return rows


def segment_rows(texts: list[str], encoder: SentenceEncoder) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every segment of every text, one row each (what the run-time check sees), and each text's
    row numbers."""
    pieces = [encoded_texts(split_segments(t), encoder) or [t] for t in texts]
    starts = np.cumsum([0] + [len(p) for p in pieces])
    rows = [np.arange(starts[i], starts[i + 1]) for i in range(len(texts))]
    return encode_corpus([s for p in pieces for s in p], encoder), rows


@lru_cache(maxsize=2)
def broad_vectors(part: str) -> tuple[tuple[tuple[str, str], ...], np.ndarray]:
    """CLINC150's `training` or `calibration` part and its embeddings, once per training run."""
    from clinic import datasets

    training, calibration = datasets.clinc150_parts()
    examples = training if part == "training" else calibration
    return tuple((e.text, e.intent) for e in examples), encode_corpus(
        [e.text for e in examples], shared_encoder()
    )


@lru_cache(maxsize=1)
def reading_fingerprint() -> str:
    """Changes whenever the embeddings can: Rasa's training cache keys a component on its own
    class and config only, so a component that reads meaning adds this to its key
    (`fingerprint_addon`); without it, a change here was trained on stale cached features."""
    from clinic.nlp.encoder_files import OUT_DIR

    digest = hashlib.sha256()
    for path in [*READING_FILES, OUT_DIR / "encoder.onnx"]:
        digest.update(path.read_bytes() if path.exists() else b"missing")
    return digest.hexdigest()[:16]
