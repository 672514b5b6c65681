"""``run(RunConfig) -> RunResult``: the one way a run happens.

Read the data, pre-train on the source (cached by content) or start from a saved model, fit on
the target (with any added data), and score the target's dev and test splits. The CLI, the
study and the benchmarks call this; none of them trains a model any other way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xner.data.corpus import Sentence
from xner.labels.normalise import LabelMap, apply_label_mode, load_label_map
from xner.models.base import FitResult, ProgressFn, Tagger
from xner.run import data as run_data
from xner.run.config import RunConfig
from xner.run.load import label_map_digest


def _no_progress(description: str) -> ProgressFn | None:
    return None


@dataclass(frozen=True)
class RunHooks:
    """What a caller may watch. ``progress(description)`` gives a callback per training phase;
    ``checkpoint(name)`` is called at named points ("pretrain" each pre-training epoch, "stage",
    "run") so the study's fault tests can kill a run there; ``log_path`` gets the target fit's
    JSONL training log."""

    progress: Callable[[str], ProgressFn | None] = _no_progress
    checkpoint: Callable[[str], None] = lambda name: None
    log_path: Path | None = None


@dataclass
class RunResult:
    """A finished run: its model, its fit and its scores (entity P/R/F1 as ``EntityScores.to_json``)."""

    config: RunConfig
    run_id: str
    tagger: Tagger
    fit: FitResult
    n_train: int
    n_added: int
    dev: dict[str, Any] | None
    test: dict[str, Any] | None
    test_gold: list[list[str]] = field(default_factory=list)
    test_pred: list[list[str]] = field(default_factory=list)
    flags: dict[str, int] | None = None
    n_added_tokens: int = 0  # tokens of the n_added sentences: the cost of added data in tokens
    device: str = "cpu"  # where it trained (resolved from [runtime] device), e.g. cuda:0
    precision: str = "fp32"  # what its forward passes used (resolved from [runtime] precision)

    def metrics(self) -> dict[str, Any]:
        """What a model folder's ``metrics.json`` and the study's store record."""
        return {"run_id": self.run_id, "target": self.config.data.target_name, "mode": self.config.mode,
                "fit": self.fit.to_json(), "dev": self.dev, "test": self.test,
                "device": self.device, "precision": self.precision,
                "n_train": self.n_train, "n_added": self.n_added, "n_added_tokens": self.n_added_tokens,
                **({"flags": self.flags} if self.flags else {})}


def run_label_map(cfg: RunConfig) -> LabelMap | None:
    """The label map the run reads: the config's file, or the shipped one."""
    return load_label_map(cfg.data.label_map) if cfg.uses_label_map else None


def pretrain(cfg: RunConfig, hooks: RunHooks = RunHooks()) -> Path:
    """The run's pre-trained source model (trained now, or found in the cache)."""
    from xner.transfer.pretrain_finetune import pretrain_source

    def progress(epoch: int, total: int, loss: float, dev_f1: float | None) -> None:
        hooks.checkpoint("pretrain")
        if watch is not None:
            watch(epoch, total, loss, dev_f1)

    watch = hooks.progress(f"pre-train {cfg.data.source}")
    source = run_data.source_domain(cfg, run_data.data_root(cfg))
    return pretrain_source(source, cfg.backbone.name, cfg.backbone.settings or None, cfg.source_train(),
                           cfg.data.label_mode, run_label_map(cfg), cfg.runtime.cache, progress)


def _scores(tagger: Tagger, sentences: list[Sentence]) -> tuple[dict[str, Any] | None, list[list[str]]]:
    from xner.evaluation.metrics import entity_scores

    if not sentences:
        return None, []
    pred = [list(p) for p in tagger.predict(sentences)]
    return entity_scores([list(s.tags) for s in sentences], pred).to_json(), pred


def _fit(cfg: RunConfig, train: list[Sentence], dev: list[Sentence], lmap: LabelMap | None,
         hooks: RunHooks) -> tuple[Tagger, FitResult, list[Sentence], dict[str, int]]:
    """(tagger, fit of the target phase, the sentences added from other domains, the added-data
    method's counts such as ``n_reannotated_tokens``)."""
    from xner.transfer.joint import joint_train, train_scratch

    root = run_data.data_root(cfg)
    progress = hooks.progress(f"{cfg.data.target_name} {cfg.mode}")
    name, settings = cfg.backbone.name, cfg.backbone.settings or None
    if cfg.mode == "dft":
        tagger, fit = train_scratch(train, dev, cfg.target_train(), name, settings,
                                    progress=progress, log_path=hooks.log_path)
        return tagger, fit, [], {}
    if cfg.mode == "jt":
        source = apply_label_mode(run_data.source_domain(cfg, root).train, cfg.data.label_mode, lmap)
        tagger, fit = joint_train(source, train, dev, cfg.target_train(), name, settings,
                                  cfg.target_repeat, progress, hooks.log_path)
        return tagger, fit, [], {}
    start = cfg.backbone.init_model or pretrain(cfg, hooks)
    init_map = lmap if cfg.data.label_init == "map" else None
    if cfg.added.method == "none":  # the target-alone fit, also active learning's round 0: cacheable
        from xner.run.fitcache import finetune_cached

        tagger, fit = finetune_cached(cfg.runtime.fit_cache, Path(start), train, dev, cfg.target_train(),
                                      init_map, progress=progress, log_path=hooks.log_path)
        return tagger, fit, [], {}
    from xner.run.added import fit_with_added

    return fit_with_added(cfg, start, train, dev, run_data.corpus(str(root)), lmap, init_map, hooks.checkpoint)


def _flags(tagger: Tagger, train: list[Sentence], threshold: float) -> dict[str, int]:
    """How many target training tokens the model is unsure of (entropy above the threshold)."""
    from xner.selection.uncertainty import flag_uncertain

    flags = flag_uncertain(tagger, train, threshold)
    return {"flagged_tokens": len(flags), "flagged_sentences": len({f.sentence for f in flags}),
            "train_tokens": sum(len(s) for s in train)}


def run(cfg: RunConfig, hooks: RunHooks = RunHooks()) -> RunResult:
    """Execute one run, start to end."""
    from xner.run.preflight import check_runtime, preflight
    from xner.transfer.pretrain_finetune import stamp_label_mode

    device, precision = check_runtime(cfg)
    preflight(cfg)
    root = run_data.data_root(cfg)
    target = run_data.target_domain(cfg, root)
    lmap = run_label_map(cfg)
    train, dev, test = (apply_label_mode(split, cfg.data.label_mode, lmap)
                        for split in (target.train, target.dev, target.test))
    tagger, fit, added, notes = _fit(cfg, train, dev, lmap, hooks)
    stamp_label_mode(tagger, cfg.data.label_mode, lmap)
    hooks.checkpoint("run")
    dev_scores, _ = _scores(tagger, dev)
    test_scores, pred = _scores(tagger, test)
    flags = _flags(tagger, train, cfg.flag_threshold) if cfg.flag_threshold else None
    if notes:  # recorded beside the flags (the study's store keeps both among the metrics)
        flags = {**(flags or {}), **notes}
    return RunResult(cfg, cfg.run_id(label_map_digest(cfg)), tagger, fit, len(train) + len(added), len(added),
                     dev_scores, test_scores, [list(s.tags) for s in test], pred, flags,
                     sum(len(s) for s in added), device=device, precision=precision)
