"""The real study methods: what one task does, on the real modules.

``BACKEND`` plugs these into the runner. Every function here runs in a worker (in-process, a
spawned process or a Ray task) except ``describe``; workers load the corpus once per process.
A run is ``xner.run.execute.run`` on the grid's RunConfig: the study trains no model any other way.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from xner.run.data import corpus as _corpus
from xner.run.execute import RunHooks, RunResult, run_label_map
from xner.study import faults
from xner.study.backend import Backend, StudyContext
from xner.study.config import StudyConfig
from xner.study.grid import StudyRun

HOOKS = RunHooks(checkpoint=faults.point)  # the fault tests kill a run at its named points


@lru_cache(maxsize=4)
def _label_map(path: str | None) -> Any:
    from xner.labels.normalise import load_label_map

    return load_label_map(Path(path) if path else None)


def describe(cfg: StudyConfig) -> dict[str, Any]:
    """Find the data and check the label map covers it (fail before any training)."""
    from xner.data.conll import discover_domains
    from xner.data.sources import find_data_root
    from xner.labels.normalise import check_covers

    root = find_data_root(cfg.data_root)
    if "normalised" in cfg.label_modes:  # label init only: a type the map lacks starts fresh
        label_map = _label_map(str(cfg.label_map) if cfg.label_map else None)
        corpus = _corpus(str(root))
        check_covers(label_map, [s for d in corpus.domains.values() for _, split in d.splits() for s in split])
    return {"data_root": str(root), "domains": discover_domains(root, complete_only=True)}


def pretrain(spec: StudyRun, ctx: StudyContext) -> dict[str, Any]:
    """Pre-train on the source (into the study's cache, where the result runs find it)."""
    from xner.run.execute import pretrain as run_pretrain

    path = run_pretrain(spec.config, HOOKS)
    info = json.loads((path / "pretrain.json").read_text(encoding="utf-8"))
    fit = info.get("fit", {})
    metrics = {"source_dev_f1": fit.get("best_dev_f1"), "best_epoch": fit.get("best_epoch"),
               "epochs_run": fit.get("epochs_run"), "n_train": info.get("train_sentences")}
    return {"metrics": metrics, "model_path": str(path)}


def _save_model(result: RunResult, ctx: StudyContext, spec: StudyRun) -> str:
    """The run's model folder (weights, meta, label map, metrics, run.toml): what ``xner train`` writes."""
    from xner.run.output import save_run

    final = ctx.study_dir / "models" / spec.id[:16]
    save_run(result, final, checkpoint=faults.point)  # test hook: die with the model half in place
    return str(final)


def execute(spec: StudyRun, ctx: StudyContext) -> dict[str, Any]:
    """One task: pre-train, or run, score on the target's test split, return metrics and test predictions."""
    if spec.method == "pretrain":
        return pretrain(spec, ctx)
    from xner.run.execute import run

    result = run(spec.config, HOOKS)
    fit = result.fit
    # Entity P/R/F1 of both splits, default (conlleval) and strict; dev_f1 is the fit's best epoch's.
    splits = (("dev", result.dev), ("test", result.test))
    scores = {f"{split}_{key}": (values or {}).get(key) for split, values in splits
              for key in ("precision", "recall", "f1", "strict_precision", "strict_recall", "strict_f1")}
    metrics = {
        **scores, "dev_f1": fit.best_dev_f1, "best_epoch": fit.best_epoch,
        "epochs_run": fit.epochs_run, "n_train": result.n_train, "n_added": result.n_added,
        "n_added_tokens": result.n_added_tokens, **(result.flags or {}),
    }
    model_path = _save_model(result, ctx, spec) if ctx.config.keep_models else None
    return {"metrics": metrics, "model_path": model_path,
            "predictions": {"gold": result.test_gold, "pred": result.test_pred}}


def choose_target(arg: tuple[list[str], StudyRun], ctx: StudyContext) -> dict[str, Any]:
    """Fine-tune the pre-trained model on each candidate; the worst on its dev split is the target."""
    from xner.transfer.target_choice import choose_target as _choose

    candidates, spec = arg
    cfg = spec.config
    choice = _choose(Path(ctx.pretrained[spec.pretrain_key]), _corpus(str(ctx.data_root)), candidates,
                     cfg.phase_train(cfg.finetune), spec.label_mode,
                     run_label_map(cfg), source=cfg.data.source)
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
