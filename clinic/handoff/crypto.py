"""Encryption at rest for visitors' contact details and conversation text.

A copied database file or a leaked backup must not reveal who contacted the clinic or
what they asked about, so personal columns hold Fernet tokens (AES-128-CBC + HMAC)
instead of text. The column types below encrypt on write and decrypt on read, which
keeps the rest of the code working with plain Python values.

The cipher belongs to an *engine* (``attach_cipher``) rather than to the process, so
two stores with different keys (tests, key rotation tools) never mix their keys up.
``HANDOFF_ENCRYPTION_KEY`` may list several comma-separated keys: the first encrypts,
all of them decrypt, which allows rotating keys without losing old records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.types import Text, TypeDecorator

KeyMaterial = str | bytes | Sequence[str | bytes]

_DIALECT_ATTRIBUTE = "handoff_cipher"


class InvalidKeyError(ValueError):
    """The configured key is not a usable Fernet key."""


class DecryptionError(RuntimeError):
    """Stored data cannot be decrypted with the configured key(s)."""


def generate_key() -> str:
    """A new random Fernet key, as text suitable for HANDOFF_ENCRYPTION_KEY."""
    return Fernet.generate_key().decode("ascii")


def build_cipher(keys: KeyMaterial) -> MultiFernet:
    """Turn one key, a comma-separated list or a sequence of keys into a cipher."""
    if isinstance(keys, bytes):
        keys = keys.decode("ascii", errors="replace")
    if isinstance(keys, str):
        keys = [part for part in (p.strip() for p in keys.split(",")) if part]
    if not keys:
        raise InvalidKeyError("no encryption key given")
    fernets = []
    for key in keys:
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError) as exc:
            raise InvalidKeyError(
                "not a valid Fernet key (it must be 32 url-safe base64-encoded bytes)"
            ) from exc
    return MultiFernet(fernets)


def attach_cipher(engine: Engine, cipher: MultiFernet) -> None:
    """Make the encrypted column types of this engine use ``cipher``."""
    setattr(engine.dialect, _DIALECT_ATTRIBUTE, cipher)


def _cipher_for(dialect: Dialect) -> MultiFernet:
    cipher = getattr(dialect, _DIALECT_ATTRIBUTE, None)
    if cipher is None:
        raise RuntimeError(
            "encrypted column used on an engine without a cipher; "
            "call clinic.handoff.crypto.attach_cipher(engine, cipher) first"
        )
    return cipher


class EncryptedText(TypeDecorator):
    """A text column stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cipher_for(dialect).encrypt(self._serialise(value).encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        try:
            plain = _cipher_for(dialect).decrypt(value.encode("ascii"))
        except InvalidToken as exc:
            raise DecryptionError(
                "stored handoff data cannot be decrypted: HANDOFF_ENCRYPTION_KEY is not the "
                "key the data was written with (keep old keys listed after the new one)"
            ) from exc
        return self._deserialise(plain.decode("utf-8"))

    def _serialise(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"EncryptedText expects str, got {type(value).__name__}")
        return value

    def _deserialise(self, text: str) -> Any:
        return text


class EncryptedJSON(EncryptedText):
    """A JSON-serialisable value (lists, dicts) stored as one Fernet token."""

    cache_ok = True

    def _serialise(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def _deserialise(self, text: str) -> Any:
        return json.loads(text)
