"""The encoder tagger's network: a pre-trained Transformer encoder, the first subword of each
word (+ a casing embedding), dropout, a linear layer and an optional CRF; and the head's own
learning rate (``head_learning_rate``). The tagger around it is ``xner.models.encoder``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from xner.models.crf import CRF
from xner.models.encoder_config import EncoderConfig
from xner.models.subwords import CASING_CLASSES, Batch

__all__ = ["EncoderNet", "head_learning_rate"]


class EncoderNet(nn.Module):
    """Encoder -> first subword of each word (+ casing) -> dropout -> linear -> (CRF)."""

    def __init__(self, encoder: nn.Module, num_labels: int, config: EncoderConfig) -> None:
        super().__init__()
        # Master weights are fp32 whatever dtype the file holds (transformers keeps a bf16
        # checkpoint in bf16); autocast gives the speed of low precision where it is asked for.
        self.encoder = encoder.float()
        encoder_config: Any = encoder.config  # a transformers PretrainedConfig
        hidden, casing_dim = int(encoder_config.hidden_size), config.casing_dim or 0  # resolved by the tagger
        self.casing = nn.Embedding(CASING_CLASSES, casing_dim, padding_idx=0) if casing_dim else None
        self.dropout = nn.Dropout(config.dropout)
        self.proj = nn.Linear(hidden + casing_dim, num_labels)
        self.crf = CRF(num_labels) if config.head == "crf" else None

    def forward(self, batch: Batch) -> Tensor:
        """Emission scores (B, T, labels) for the words of ``batch``."""
        out = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
        words = out.reshape(-1, out.shape[-1])[batch.gather]
        if self.casing is not None:
            words = torch.cat([words, self.casing(batch.casing)], dim=-1)
        return self.proj(self.dropout(words))

    def head_parameters(self) -> list[tuple[nn.Module, str]]:
        """(module, name) of every weight that is not part of the pre-trained encoder."""
        owners: list[nn.Module] = [self.proj] + [m for m in (self.casing, self.crf) if m is not None]
        return [(m, name) for m in owners for name, _ in m.named_parameters(recurse=False)]


class _Scale(nn.Module):
    """weight = m * raw. Adam's steps on ``raw`` are about lr in size, so ``weight`` moves m * lr."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, raw: Tensor) -> Tensor:
        return raw * self.factor

    def right_inverse(self, weight: Tensor) -> Tensor:
        return weight / self.factor


@contextmanager
def head_learning_rate(net: EncoderNet, factor: float) -> Iterator[None]:
    """Give the head ``factor`` times the optimiser's learning rate while inside (the shared
    trainer has one lr; a fresh head and CRF transitions need far more than the encoder)."""
    targets = net.head_parameters() if factor != 1.0 else []
    for module, name in targets:
        parametrize.register_parametrization(module, name, _Scale(factor))
    try:
        yield
    finally:
        for module, name in targets:
            parametrize.remove_parametrizations(module, name, leave_parametrized=True)
