"""The encoder's ONNX graph computes all-MiniLM-L6-v2, offline, within its per-message bound."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

from clinic.nlp.build_encoder import load_weights
from clinic.nlp.encoder_files import MODEL_PACKAGE_DIR
from clinic.nlp.meaning import TOKEN_BUDGET, encoded_texts, read_meaning
from clinic.nlp.sentence_encoder import MAX_TOKENS, SentenceEncoder, shared_encoder


def reference_embedding(ids: list[int], w: dict[str, np.ndarray]) -> np.ndarray:
    """The float32 BERT forward pass in plain numpy: mean pooling, unit length."""

    def norm(x: np.ndarray, p: str) -> np.ndarray:
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[f"{p}.weight"] + w[f"{p}.bias"]

    def linear(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[f"{p}.weight"].T + w[f"{p}.bias"]

    t = len(ids)
    h = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t]
    h = norm(h + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    for i in range(6):
        p = f"encoder.layer.{i}"
        q, k, v = (
            linear(h, f"{p}.attention.self.{n}").reshape(t, 12, 32).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(32)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        context = (weights / weights.sum(-1, keepdims=True) @ v).transpose(1, 0, 2).reshape(t, 384)
        h = norm(linear(context, f"{p}.attention.output.dense") + h, f"{p}.attention.output.LayerNorm")
        inner = linear(h, f"{p}.intermediate.dense")
        h = norm(
            linear(0.5 * inner * (1 + erf(inner / np.sqrt(2))), f"{p}.output.dense") + h,
            f"{p}.output.LayerNorm",
        )
    pooled = h.mean(0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return shared_encoder()


def test_the_graph_matches_the_models_own_forward_pass(encoder: SentenceEncoder) -> None:
    weights, _ = load_weights(MODEL_PACKAGE_DIR())
    for text in ["is the iv route risky for older people", "this traffic is killing me", "i want to die"]:
        cosine = float(encoder.encode([text])[0] @ reference_embedding(encoder.token_ids(text), weights))
        assert cosine > 0.99, text  # int8 weights: within 1% of the float32 model


def test_meaning_close_for_paraphrases_far_for_unrelated(encoder: SentenceEncoder) -> None:
    iv, drip, bank = encoder.encode(
        ["why is the iv risky", "what are the dangers of the drip", "what is my bank balance"]
    )
    assert iv @ drip > iv @ bank + 0.2


def test_embeddings_do_not_depend_on_what_was_encoded_before(encoder: SentenceEncoder) -> None:
    fresh = SentenceEncoder()
    alone = fresh.embed_uncached(["how safe is the knee injection"])[0]
    encoder.encode(["something else entirely", "and another long message about hips and knees"])
    assert np.array_equal(encoder.encode(["how safe is the knee injection"])[0], alone)


def test_long_input_is_cut_to_the_token_bound(encoder: SentenceEncoder) -> None:
    assert len(encoder.token_ids("knee " * 1000)) == MAX_TOKENS
    meaning = read_meaning("My knee hurts. " * 200, encoder)
    assert meaning.vectors.shape[0] <= 6 and np.isclose(np.linalg.norm(meaning.question), 1.0)
    assert read_meaning("", encoder).vectors.shape == (0, 384)


def test_clip_keeps_the_start_within_the_word_pieces_given(encoder: SentenceEncoder) -> None:
    text = "I am sixty seven and my knees hurt every single morning when I walk down the stairs"
    clipped = encoder.clip(text, 12)
    assert text.startswith(clipped) and len(encoder.token_ids(clipped)) <= 12
    assert encoder.clip("is the iv safe", 12) == "is the iv safe"


def test_a_message_of_many_long_segments_shares_the_token_budget(encoder: SentenceEncoder) -> None:
    long = ["word " * 30 + f"number {n}" for n in range(6)]
    read = encoded_texts(long, encoder)
    assert sum(len(encoder.token_ids(t)) for t in read) <= TOKEN_BUDGET
    assert all(original.startswith(text) for original, text in zip(long, read, strict=True))
    few = ["how is it given", "is it safe for my knee"]
    assert encoded_texts(few, encoder) == few  # short messages are read whole
