"""The `weight` option of the project's featurizers: how loud their features are beside the others."""

from __future__ import annotations

from typing import Any


class PositiveWeight:
    """Mixin for a featurizer scaled by `weight` in config.yml: checks it when the config loads."""

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if float(config.get("weight", 1.0)) <= 0:
            raise ValueError(f"{cls.__name__}: 'weight' must be positive.")
