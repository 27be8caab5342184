"""The channels encode a message ahead on a worker thread, only where a pipeline uses the encoder."""

from __future__ import annotations

import asyncio

from clinic.nlp import prefetch
from clinic.nlp.segments import split_segments
from clinic.nlp.sentence_encoder import shared_encoder


def test_nothing_is_loaded_for_a_config_without_the_encoder(monkeypatch) -> None:
    monkeypatch.setattr(prefetch, "encoder_in_use", lambda: False)
    monkeypatch.setattr(prefetch, "shared_encoder", lambda: (_ for _ in ()).throw(AssertionError("loaded")))
    asyncio.run(prefetch.prefetch("is the drip risky"))


def test_the_segments_are_in_the_cache_before_the_pipeline_reads_them() -> None:
    encoder = shared_encoder()  # what the pipeline's featurizer does when it is created
    text = "I'm 70. Prefetch test: which is safer, the drip or the knee shot?"
    asyncio.run(prefetch.prefetch(text))
    calls = []
    original = encoder.embed_uncached
    encoder.embed_uncached = lambda texts: calls.append(texts) or original(texts)  # type: ignore[method-assign]
    try:
        encoder.encode(split_segments(text))
    finally:
        encoder.embed_uncached = original  # type: ignore[method-assign]
    assert calls == []  # every segment came from the cache
