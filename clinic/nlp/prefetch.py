"""Encode a visitor's message in a worker thread before Rasa parses it.

Rasa runs the NLU pipeline on its event loop, so while one message is encoded every other
visitor waits. The channels call `prefetch` first: the segments are encoded on a worker thread
(ONNX Runtime releases the GIL), the event loop serves other visitors meanwhile, and the
featurizer then finds the embeddings in the encoder's cache. Nothing changes in what the
pipeline computes; where no pipeline uses the encoder (another config), this does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from clinic.nlp.segments import split_segments
from clinic.nlp.sentence_encoder import shared_encoder

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _worker() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")


def encoder_in_use() -> bool:
    """True once a pipeline component has created the process's shared encoder."""
    return shared_encoder.cache_info().currsize > 0


async def prefetch(text: str | None) -> None:
    if not text or not encoder_in_use():
        return
    segments = split_segments(text)
    try:
        await asyncio.get_running_loop().run_in_executor(_worker(), shared_encoder().encode, segments)
    except Exception as error:  # noqa: BLE001 - the pipeline encodes it again; never fail a message here
        logger.warning("Encoding ahead of the pipeline failed (%s)", type(error).__name__)
