"""Build a fresh tagger of a named backbone: a thin front to ``xner.models.registry``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xner.data.corpus import Sentence
from xner.labels.space import LabelSpace
from xner.models import registry
from xner.models.base import Tagger

BACKBONES: tuple[str, ...] = tuple(registry.BACKBONES)


def create_tagger(
    backbone: str,
    train: Sequence[Sentence],
    labels: LabelSpace,
    model_config: dict[str, Any] | None = None,
    seed: int = 0,
) -> Tagger:
    """A new, untrained tagger whose vocabularies come from ``train`` and outputs are ``labels``
    (an unknown backbone is a one-line ConfigError)."""
    return registry.backbone(backbone).create(train, labels, model_config, seed=seed)
