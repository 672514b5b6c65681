"""The real study methods: what one run does, on the real modules.

``BACKEND`` plugs these into the runner. Every function here runs in a worker (in-process, a
spawned process or a Ray task) except ``describe``; workers load the corpus once per process.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from xner.atomic import atomic_dir
from xner.data.corpus import Corpus, Domain, Sentence
from xner.study import faults
from xner.study.config import StudyConfig
from xner.study.grid import RunSpec
from xner.study.runner import Backend, StudyContext


@lru_cache(maxsize=2)
def _corpus(root: str) -> Corpus:
    from xner.data.conll import load_corpus

    return load_corpus(Path(root))


@lru_cache(maxsize=4)
def _label_map(path: str | None) -> Any:
    from xner.labels.normalise import load_label_map

    return load_label_map(Path(path) if path else None)


def describe(cfg: StudyConfig) -> dict[str, Any]:
    """Find the data, check the label map covers it (fail before any training), fingerprint it."""
    from xner.data.conll import discover_domains
    from xner.data.sources import find_data_root
    from xner.labels.normalise import check_covers

    root = find_data_root(cfg.data_root)
    sha = None
    if "normalised" in cfg.label_modes or cfg.label_init == "map":
        label_map = _label_map(str(cfg.label_map) if cfg.label_map else None)
        if "normalised" in cfg.label_modes:  # label init only: a type the map lacks starts fresh
            corpus = _corpus(str(root))
            check_covers(label_map, [s for d in corpus.domains.values() for _, split in d.splits() for s in split])
        sha = hashlib.sha256(json.dumps(label_map.to_json(), sort_keys=True).encode()).hexdigest()
    return {"data_root": str(root), "domains": discover_domains(root, complete_only=True), "label_map_sha256": sha}


def _map(ctx: StudyContext) -> Any:
    return _label_map(str(ctx.config.label_map) if ctx.config.label_map else None)


def _init_map(ctx: StudyContext, spec: RunSpec) -> Any:
    """The label map that starts new labels from source ones, or None (fresh rows)."""
    return _map(ctx) if spec.label_init == "map" else None


def _source(ctx: StudyContext, spec: RunSpec) -> Domain:
    """The source domain, cut to ``source_subset`` train sentences (and the same share of dev)."""
    full = _corpus(str(ctx.data_root))[spec.source]
    n = spec.source_subset
    if n is None or n >= len(full.train):
        return full
    n_dev = max(1, round(n * len(full.dev) / max(1, len(full.train))))
    return Domain(full.name, train=full.train[:n], dev=full.dev[:n_dev], test=[])


def _pretrain_progress(epoch: int, total: int, loss: float, dev_f1: float | None) -> None:
    faults.point("pretrain")  # test hook: die between pre-training epochs


def pretrain(spec: RunSpec, ctx: StudyContext) -> dict[str, Any]:
    from xner.transfer.pretrain_finetune import pretrain_source

    path = pretrain_source(_source(ctx, spec), spec.backbone, spec.model or None, spec.pretrain,
                           spec.label_mode, _map(ctx), cache_dir=ctx.study_dir / "pretrained",
                           progress=_pretrain_progress)
    info = json.loads((path / "pretrain.json").read_text(encoding="utf-8"))
    fit = info.get("fit", {})
    metrics = {"source_dev_f1": fit.get("best_dev_f1"), "best_epoch": fit.get("best_epoch"),
               "epochs_run": fit.get("epochs_run"), "n_train": info.get("train_sentences")}
    return {"metrics": metrics, "model_path": str(path)}


def _added(ctx: StudyContext, spec: RunSpec) -> list[Sentence]:
    """Random / similar / dissimilar: a nested seeded sample of the chosen domains' train+dev."""
    from xner.selection.random_pool import build_pool, nested_sample

    if spec.setting == 0 or not spec.added_domains:
        return []
    pool = build_pool(_corpus(str(ctx.data_root)), spec.target or "", list(spec.added_domains),
                      splits=spec.pool_splits, source=spec.source)
    return nested_sample(pool, spec.setting, spec.seed)


def _fit(spec: RunSpec, ctx: StudyContext, target: Domain) -> tuple[Any, Any, int]:
    """Train the run's model; returns (tagger, FitResult, sentences added from outside the target)."""
    from xner.labels.normalise import apply_label_mode
    from xner.transfer.pretrain_finetune import finetune, train_target

    mode, lmap, tcfg = spec.label_mode, _map(ctx), spec.finetune
    assert tcfg is not None
    if spec.method in ("dft", "jt"):
        cfg = tcfg if spec.method == "dft" else spec.pretrain.model_copy(update={"seed": spec.seed})
        tagger, fit = train_target(spec.method, _source(ctx, spec), target.train, target.dev, cfg,
                                   backbone=spec.backbone, model_config=spec.model or None,
                                   label_mode=mode, label_map=lmap)
        return tagger, fit, 0
    pretrained = Path(ctx.pretrained[spec.pretrain_key])
    train = apply_label_mode(target.train, mode, lmap)
    dev = apply_label_mode(target.dev, mode, lmap)
    if spec.method.startswith("uncertainty"):
        return _active(spec, ctx, pretrained, train, dev)
    if spec.method == "staged":
        return _staged(spec, ctx, pretrained, train, dev)
    added = apply_label_mode(_added(ctx, spec), mode, lmap)
    tagger, fit = finetune(pretrained, train + added, dev, tcfg, label_map=_init_map(ctx, spec))
    return tagger, fit, len(added)


def _staged(spec: RunSpec, ctx: StudyContext, pretrained: Path, train: list[Sentence],
            dev: list[Sentence]) -> tuple[Any, Any, int]:
    """Fine-tune on the pool domains' and the target's train splits together (early-stopped on
    their dev splits together), then on the target alone; the second fit is the run's."""
    from xner.labels.normalise import apply_label_mode
    from xner.selection.random_pool import build_pool
    from xner.transfer.pretrain_finetune import finetune

    assert spec.stage is not None and spec.finetune is not None

    def pool(split: str) -> list[Sentence]:  # the guarded pool: no target or test text
        return apply_label_mode(build_pool(_corpus(str(ctx.data_root)), spec.target or "", list(spec.added_domains),
                                           splits=(split,), source=spec.source), spec.label_mode, _map(ctx))

    pool_train, pool_dev = pool("train"), pool("dev")
    tagger, _ = finetune(pretrained, train + pool_train, dev + pool_dev, spec.stage, label_map=_init_map(ctx, spec))
    faults.point("stage")  # test hook: die between the two stages
    tagger, fit = finetune(tagger, train, dev, spec.finetune, label_map=_init_map(ctx, spec))
    return tagger, fit, len(pool_train)


def _active(spec: RunSpec, ctx: StudyContext, pretrained: Path, train: list[Sentence],
            dev: list[Sentence]) -> tuple[Any, Any, int]:
    """Active learning (or its random twin) for ``setting`` rounds; the last model is the run's."""
    from xner.labels.normalise import apply_label_mode
    from xner.selection.active import active_learning
    from xner.selection.random_pool import build_pool
    from xner.transfer.pretrain_finetune import finetune

    assert spec.uncertainty is not None and spec.finetune is not None
    pool = build_pool(_corpus(str(ctx.data_root)), spec.target or "", list(spec.added_domains),
                      splits=spec.pool_splits, source=spec.source)
    pool = apply_label_mode(pool, spec.label_mode, _map(ctx))
    fits: list[Any] = []

    def train_fn(sentences: list[Sentence]) -> Any:
        tagger, fit = finetune(pretrained, sentences, dev, spec.finetune,  # type: ignore[arg-type]
                               label_map=_init_map(ctx, spec))
        fits.append(fit)
        return tagger

    strategy = "uncertainty" if spec.method == "uncertainty" else "random"
    result = active_learning(train_fn, train, pool, int(spec.setting), spec.uncertainty["budget"],
                             how=spec.uncertainty["score"], strategy=strategy, seed=spec.seed)
    return result.tagger, fits[-1], len(result.added)


def _save_model(tagger: Any, ctx: StudyContext, spec: RunSpec) -> str:
    final = ctx.study_dir / "models" / spec.id[:16]
    with atomic_dir(final) as tmp:
        tagger.save(tmp)
        faults.point("checkpoint")  # test hook: die with the model half in place
    return str(final)


def _flags(tagger: Any, train: list[Sentence], threshold: float) -> dict[str, int]:
    """How many target training tokens the model is unsure of (entropy above the threshold)."""
    from xner.selection.uncertainty import flag_uncertain

    flags = flag_uncertain(tagger, train, threshold)
    return {"flagged_tokens": len(flags), "flagged_sentences": len({f.sentence for f in flags}),
            "train_tokens": sum(len(s) for s in train)}


def execute(spec: RunSpec, ctx: StudyContext) -> dict[str, Any]:
    """One run: train, score on the target's test split, return metrics and test predictions."""
    if spec.method == "pretrain":
        return pretrain(spec, ctx)
    from xner.evaluation.metrics import entity_scores
    from xner.labels.normalise import apply_label_mode

    target = _corpus(str(ctx.data_root))[spec.target or ""]
    tagger, fit, n_added = _fit(spec, ctx, target)
    faults.point("run")
    test = apply_label_mode(target.test, spec.label_mode, _map(ctx))
    gold = [list(s.tags) for s in test]
    pred = [list(p) for p in tagger.predict(test)]
    scores = entity_scores(gold, pred)
    metrics = {
        "test_f1": scores.f1, "test_precision": scores.precision, "test_recall": scores.recall,
        "test_strict_f1": scores.strict_f1, "dev_f1": fit.best_dev_f1, "best_epoch": fit.best_epoch,
        "epochs_run": fit.epochs_run, "n_train": len(target.train) + n_added, "n_added": n_added,
    }
    if spec.method == "random" and spec.setting == 0 and spec.uncertainty:
        metrics.update(_flags(tagger, apply_label_mode(target.train, spec.label_mode, _map(ctx)),
                              spec.uncertainty["threshold"]))
    model_path = _save_model(tagger, ctx, spec) if ctx.config.keep_models else None
    return {"metrics": metrics, "model_path": model_path, "predictions": {"gold": gold, "pred": pred}}


def choose_target(arg: tuple[list[str], RunSpec], ctx: StudyContext) -> dict[str, Any]:
    """Fine-tune the pre-trained model on each candidate; the worst on its dev split is the target."""
    from xner.transfer.target_choice import choose_target as _choose

    candidates, spec = arg
    choice = _choose(Path(ctx.pretrained[spec.pretrain_key]), _corpus(str(ctx.data_root)), candidates,
                     ctx.config.finetune.model_copy(update={"seed": spec.seed}), spec.label_mode, _map(ctx),
                     source=spec.source)
    rows = [{"domain": r.domain, "train": r.train_size, "dev": r.dev_size, "dev_f1": float(r.dev_f1)}
            for r in choice.rows]
    return {"rows": rows, "target": choice.target}


def distances(arg: tuple[list[str], str, list[str]], ctx: StudyContext) -> dict[str, Any]:
    """Distance tables between all domains; pool domains ranked by similarity to the target."""
    from xner.selection.similarity import distance_tables, rank_by_similarity

    names, target, pool = arg
    sim = ctx.config.methods.similarity
    tables = distance_tables(_corpus(str(ctx.data_root)), names, sim.method)
    ranking = rank_by_similarity(tables[sim.metric], target, exclude=[n for n in names if n not in pool])
    return {"tables": {k: {"names": list(t.names), "values": t.values.tolist()} for k, t in tables.items()},
            "ranking": ranking}


BACKEND = Backend(describe=describe, execute=execute, choose_target=choose_target, distances=distances)
