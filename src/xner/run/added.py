"""Fine-tuning with data added from other domains: a random / similar / dissimilar share of the
pool, active learning (or its random twin) in rounds, or a staged fit on the pooled domains; or
(``reannotate``) with the target's own training set re-labelled where the model is unsure.

Every pool is drawn through ``build_pool``, which leaves out any sentence whose text is in the
target or in a test split.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xner.data.corpus import Corpus, Sentence
from xner.labels.normalise import LabelMap, apply_label_mode
from xner.models.base import FitResult, Tagger
from xner.run.config import RunConfig

Start = Path | Tagger
Checkpoint = Callable[[str], None]
# Counts a method reports beside its scores (reannotate: n_reannotated_tokens, ...).
Notes = dict[str, int]


def _pool(cfg: RunConfig, corpus: Corpus, lmap: LabelMap | None,
          splits: tuple[str, ...] | None = None) -> list[Sentence]:
    from xner.selection.random_pool import build_pool

    pool = build_pool(corpus, cfg.data.target[0], list(cfg.added.domains),
                      splits=splits or cfg.added.pool_splits, source=cfg.data.source)
    return apply_label_mode(pool, cfg.data.label_mode, lmap)


def fit_with_added(cfg: RunConfig, start: Start, train: list[Sentence], dev: list[Sentence],
                   corpus: Corpus, lmap: LabelMap | None, init_map: LabelMap | None,
                   checkpoint: Checkpoint) -> tuple[Tagger, FitResult, list[Sentence], Notes]:
    """Fine-tune ``start`` on the target plus the config's added data; returns (tagger, the
    final fit, the sentences added, the method's counts)."""
    from xner.transfer.pretrain_finetune import finetune

    method, fcfg = cfg.added.method, cfg.target_train()
    if method.startswith("uncertainty"):
        return (*_active(cfg, start, train, dev, corpus, lmap, init_map), {})
    if method == "reannotate":
        return _reannotate(cfg, start, train, dev, init_map, checkpoint)
    if method == "staged":
        assert cfg.added.stage is not None
        pool_train, pool_dev = _pool(cfg, corpus, lmap, ("train",)), _pool(cfg, corpus, lmap, ("dev",))
        stage = cfg.phase_train(cfg.added.stage)
        tagger, _ = finetune(start, train + pool_train, dev + pool_dev, stage, label_map=init_map)
        checkpoint("stage")  # test hook: die between the two stages
        tagger, fit = finetune(tagger, train, dev, fcfg, label_map=init_map)
        return tagger, fit, pool_train, {}
    added: list[Sentence] = []
    if cfg.added.setting > 0:
        from xner.selection.random_pool import nested_sample

        added = nested_sample(_pool(cfg, corpus, lmap), cfg.added.setting, cfg.seed)
    tagger, fit = finetune(start, train + added, dev, fcfg, label_map=init_map)
    return tagger, fit, added, {}


def _reannotate(cfg: RunConfig, start: Start, train: list[Sentence], dev: list[Sentence],
                init_map: LabelMap | None, checkpoint: Checkpoint) -> tuple[Tagger, FitResult, list[Sentence], Notes]:
    """The reference study's re-annotation (``xner.selection.reannotate``): fine-tune on the
    target, re-label its training set (gold labels only where the token entropy is above
    ``setting``, the model's predictions elsewhere), and fine-tune ``start`` again on that."""
    from xner.run.fitcache import finetune_cached
    from xner.selection.reannotate import reannotate
    from xner.transfer.pretrain_finetune import finetune

    fcfg = cfg.target_train()
    first, _ = finetune_cached(cfg.runtime.fit_cache, start, train, dev, fcfg, init_map)  # = the PTF baseline
    relabelled = reannotate(first, train, cfg.added.setting)
    checkpoint("stage")  # test hook: die between the two fits
    tagger, fit = finetune(start, relabelled.sentences, dev, fcfg, label_map=init_map)
    return tagger, fit, [], relabelled.counts()


def _active(cfg: RunConfig, start: Start, train: list[Sentence], dev: list[Sentence], corpus: Corpus,
            lmap: LabelMap | None, init_map: LabelMap | None) -> tuple[Tagger, FitResult, list[Sentence]]:
    """Active learning (or its random twin) for ``setting`` rounds; the last model is the run's."""
    from xner.run.fitcache import finetune_cached
    from xner.selection.active import Strategy, active_learning

    fits: list[FitResult] = []
    strategy: Strategy = "uncertainty" if cfg.added.method == "uncertainty" else "random"

    def train_fn(sentences: list[Sentence]) -> Any:
        # Round k's model is the last model of the run with k rounds: kept, a later round's run
        # loads it instead of refitting (the random twin fits only its last round: nothing to keep).
        tagger, fit = finetune_cached(cfg.runtime.fit_cache, start, sentences, dev, cfg.target_train(),
                                      init_map, keep=strategy == "uncertainty")
        fits.append(fit)
        return tagger

    result = active_learning(train_fn, train, _pool(cfg, corpus, lmap), int(cfg.added.setting),
                             cfg.added.budget, how=cfg.added.score, strategy=strategy, seed=cfg.seed)
    assert result.tagger is not None  # the last round always trains a model
    return result.tagger, fits[-1], result.added
