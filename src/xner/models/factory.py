"""Build a fresh tagger of a named backbone (the backbone modules are imported lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.models.base import Tagger

BACKBONES: tuple[str, ...] = ("bilstm_crf", "encoder")


def create_tagger(
    backbone: str,
    train: Sequence[Sentence],
    labels: LabelSpace,
    model_config: dict[str, Any] | None = None,
    seed: int = 0,
) -> Tagger:
    """A new, untrained tagger whose vocabularies come from ``train`` and outputs are ``labels``."""
    if backbone == "bilstm_crf":
        # Lazy: importing the encoder pulls in transformers, which a BiLSTM run never needs.
        from xner.models.bilstm_crf import BiLSTMCRFTagger

        return BiLSTMCRFTagger.create(train, labels, model_config, seed=seed)
    if backbone == "encoder":
        from xner.models.encoder import EncoderTagger

        return EncoderTagger.create(train, labels, model_config, seed=seed)
    raise ConfigError(f"unknown backbone {backbone!r}; expected one of: {', '.join(BACKBONES)}")
