"""The answer classifier's fast scoring equals the plain matrix product it replaces."""

from __future__ import annotations

import numpy as np
import scipy.sparse
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message

from clinic.nlp.topic_classifier import features, linear_scores


def test_linear_scores_match_the_stacked_features_product() -> None:
    rng = np.random.default_rng(5)
    message = Message({TEXT: "is the drip risky"})
    blocks = [
        Features(
            scipy.sparse.random(1, 40, density=0.2, random_state=1, format="coo"),
            FEATURE_TYPE_SENTENCE,
            TEXT,
            "terms",
        ),
        Features(rng.normal(size=(1, 6)), FEATURE_TYPE_SENTENCE, TEXT, "encoder"),  # dense, given in between
        Features(
            scipy.sparse.random(1, 25, density=0.3, random_state=2, format="coo"),
            FEATURE_TYPE_SENTENCE,
            TEXT,
            "words",
        ),
        Features(
            scipy.sparse.random(4, 25, density=0.3, random_state=3, format="coo"),
            FEATURE_TYPE_SEQUENCE,
            TEXT,
            "words",
        ),
    ]
    for block in blocks:
        message.add_features(block)
    coef = rng.normal(size=(7, 40 + 25 + 6))
    expected = np.asarray(features(message) @ coef.T).ravel()
    assert np.allclose(linear_scores(message, coef), expected)
