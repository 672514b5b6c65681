"""Training from scratch: DFT (target only) and JT (source + target together).

JT concatenates the source train split with the target train split and early-stops on the
target dev split. The CrossNER targets are tiny (100 sentences against conll2003's 14,041),
so by default the target sentences are repeated ``DEFAULT_TARGET_REPEAT`` times per epoch:
with 10, a 100-sentence target contributes 1,000 of ~15,000 sentences (~7%) instead of ~0.7%,
so its new entity types are seen often enough to be learnt. ``target_repeat=1`` gives plain
concatenation (the CrossNER paper's setting).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.models.base import FitResult, ProgressFn, Tagger, TrainableTagger, TrainConfig
from xner.models.factory import create_tagger
from xner.training.trainer import fit as fit_tagger

DEFAULT_TARGET_REPEAT = 10


def union_labels(first: Sequence[Sentence], *others: Sequence[Sentence]) -> LabelSpace:
    """Labels of ``first`` (sorted), then the types only ``others`` have appended, in that order."""
    space = LabelSpace.from_sentences(first)
    for sentences in others:
        space.extend(LabelSpace.from_sentences(sentences))
    return space


def train_scratch(
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    train_cfg: TrainConfig,
    backbone: str = "bilstm_crf",
    model_config: dict[str, Any] | None = None,
    labels: LabelSpace | None = None,
    progress: ProgressFn | None = None,
    log_path: Path | None = None,
) -> tuple[Tagger, FitResult]:
    """A fresh tagger fitted on ``train`` (DFT when ``train`` is the target's train split).

    ``labels`` defaults to the types of ``train`` and ``dev`` so that a type seen only in dev
    still has an output (it cannot be learnt, but it keeps the label space honest).
    """
    if not train:
        raise ConfigError("no training sentences")
    labels = labels if labels is not None else union_labels(train, dev)
    tagger = create_tagger(backbone, train, labels, model_config, seed=train_cfg.seed)
    result = fit_tagger(cast(TrainableTagger, tagger), list(train), list(dev), train_cfg,
                        progress=progress, log_path=log_path)
    return tagger, result


def joint_train(
    source_train: Sequence[Sentence],
    target_train: Sequence[Sentence],
    target_dev: Sequence[Sentence],
    train_cfg: TrainConfig,
    backbone: str = "bilstm_crf",
    model_config: dict[str, Any] | None = None,
    target_repeat: int = DEFAULT_TARGET_REPEAT,
    progress: ProgressFn | None = None,
    log_path: Path | None = None,
) -> tuple[Tagger, FitResult]:
    """JT: one model from scratch on source + (repeated) target train, early-stopped on target dev.

    The label space lists the source labels first, then the target-only ones, as PTF does, so
    the two methods' models are laid out alike.
    """
    if target_repeat < 1:
        raise ConfigError(f"target_repeat must be >= 1, got {target_repeat}")
    train = list(source_train) + list(target_train) * target_repeat
    labels = union_labels(source_train, target_train, target_dev)
    return train_scratch(train, target_dev, train_cfg, backbone, model_config, labels, progress, log_path)
