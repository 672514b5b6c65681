"""The study's grid: one ``RunConfig`` per run, identified by ``xner.run.load.run_id``.

A study expands to method x setting x label mode x seed. Each result run is a ``RunConfig`` that
``xner.run.execute.run`` executes as it would one from ``xner train``, with the same run id.
Pre-training is a task of its own (method ``pretrain``), once per (seed, label mode); its id
covers only what pre-training reads, so every result run finds its pre-trained model by it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from xner.run.config import IDENTITY, RunConfig
from xner.run.load import label_map_digest, run_id, validate
from xner.study.config import StudyConfig

Method = Literal["pretrain", "random", "similar", "dissimilar", "uncertainty", "uncertainty_random",
                 "staged", "reannotate", "o_weight", "dft", "jt"]
# Runs that are compared with the baseline in the report (pretrain is a means, not a result).
RESULT_METHODS: tuple[str, ...] = ("random", "similar", "dissimilar", "uncertainty",
                                   "uncertainty_random", "staged", "reannotate", "o_weight", "dft", "jt")
BASELINE = ("random", 0.0)


def pretrain_identity(cfg: RunConfig) -> dict[str, Any]:
    """What pre-training reads of a run (source, backbone, its phase, labels, seed): the identity
    of a study's pre-training task. The label map counts only for normalised labels; the runtime
    only by an explicit bf16/fp16 precision, as in a run id (so every other id stays as it was)."""
    data = cfg.model_dump(mode="json", include={"schema_version", "seed", "backbone", "pretrain"}, context=IDENTITY)
    data.update(cfg.runtime_identity())
    normalised = cfg.data.label_mode == "normalised"
    data["data"] = {"source": cfg.data.source, "source_subset": cfg.data.source_subset,
                    "label_mode": cfg.data.label_mode,
                    "label_map": label_map_digest(cfg) if normalised else None}
    return {"pretrain": data}


def _sha(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StudyRun:
    """One task of the grid: the store's method/setting columns, the run itself and its id."""

    method: Method
    setting: float
    config: RunConfig
    id: str
    stored: str  # the JSON the store keeps for it (its identity, readable)

    @property
    def label_mode(self) -> str:
        return self.config.data.label_mode

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def backbone(self) -> str:
        return self.config.backbone.name

    @property
    def pretrain_key(self) -> str:
        """The id of the pre-training task this run starts from."""
        return _sha(pretrain_identity(self.config))

    def label(self) -> str:
        return f"{self.method} {self.setting:g} {self.label_mode} seed={self.seed}"

    def row(self) -> tuple[str, str, float, str, int, str, str]:
        """The store's row: (id, method, setting, label_mode, seed, backbone, config JSON)."""
        return (self.id, self.method, self.setting, self.label_mode, self.seed, self.backbone, self.stored)


def result_run(method: Method, setting: float, config: RunConfig) -> StudyRun:
    canonical = config.canonical(label_map_digest(config))
    return StudyRun(method, float(setting), config, run_id(config), canonical)


def pretrain_run(config: RunConfig) -> StudyRun:
    identity = pretrain_identity(config)
    return StudyRun("pretrain", 0.0, config, _sha(identity),
                    json.dumps(identity, sort_keys=True, separators=(",", ":")))


def base_config(cfg: StudyConfig, target: str, label_mode: str, seed: int, mode: str = "ptf",
                data_root: Path | None = None, study_dir: Path | None = None,
                **extra: Any) -> RunConfig:
    """The RunConfig of one run of the study. ``extra``: top-level keys (``added``, ``flag_threshold``)."""
    data: dict[str, Any] = {"root": data_root, "target": target, "source": cfg.source,
                            "source_subset": cfg.source_subset, "label_mode": label_mode,
                            "label_init": cfg.label_init}
    config: dict[str, Any] = {
        "mode": mode, "seed": seed, "data": data,
        "backbone": {"name": cfg.backbone, "settings": dict(cfg.model)},
        "pretrain": cfg.pretrain.model_dump(), "finetune": cfg.finetune.model_dump(),
        "runtime": {**cfg.runtime.model_dump(include={"threads", "device", "precision", "deterministic"}),
                    "cache": study_dir / "pretrained" if study_dir is not None else None,
                    "fit_cache": study_dir / "fits" if study_dir is not None else None},
        **extra,
    }
    uses_map = label_mode == "normalised" or (mode == "ptf" and cfg.label_init == "map")
    if uses_map and cfg.label_map is not None:
        data["label_map"] = cfg.label_map
    return validate(config)


def pretrain_specs(cfg: StudyConfig, target: str, data_root: Path | None = None,
                   study_dir: Path | None = None) -> list[StudyRun]:
    """One pre-training per (label mode, seed). ``target`` only fills the config (pre-training
    never reads it, and it is not in the task's id): the study's target may not be chosen yet."""
    return [pretrain_run(base_config(cfg, target, mode, seed, data_root=data_root, study_dir=study_dir))
            for mode in cfg.label_modes for seed in cfg.seeds]


def run_specs(cfg: StudyConfig, target: str, pool: list[str], ranking: list[str] | None,
              data_root: Path | None = None, study_dir: Path | None = None) -> list[StudyRun]:
    """The result grid. ``ranking``: pool domains, most similar to the target first."""
    # An "auto" target may be a listed pool domain: data is never added from the target itself.
    pool = [d for d in pool if d != target]
    ranking = [d for d in ranking if d != target] if ranking else ranking
    # Seed-major order: a study stopped early still has whole seeds, with both label modes.
    return [run for seed in cfg.seeds for mode in cfg.label_modes
            for run in _runs_of(cfg, target, pool, ranking, mode, seed, data_root, study_dir)]


def _runs_of(cfg: StudyConfig, target: str, pool: list[str], ranking: list[str] | None, mode: str, seed: int,
             data_root: Path | None, study_dir: Path | None) -> list[StudyRun]:
    """The result runs of one (label mode, seed)."""
    runs: list[StudyRun] = []

    def add(method: Method, setting: float, domains: list[str] | None = None, run_mode: str = "ptf",
            top: dict[str, Any] | None = None, **added: Any) -> None:
        """One run; with ``domains``, data is added from them (``added``: more of its [added])."""
        if domains is not None and not domains:
            return  # no pool to add from: the run would be the baseline again
        extra = dict(top or {})
        if domains is not None:
            extra["added"] = {"method": method, "setting": float(setting), "domains": domains,
                              "pool_splits": cfg.pool_splits, **added}
        rc = base_config(cfg, target, mode, seed, run_mode, data_root, study_dir, **extra)
        runs.append(result_run(method, setting, rc))

    _add_pool_runs(cfg, add, pool, ranking)
    for method in ("dft", "jt"):
        if getattr(cfg.methods.baselines, method):
            add(method, 0, run_mode=method)
    return runs


def _add_pool_runs(cfg: StudyConfig, add: Any, pool: list[str], ranking: list[str] | None) -> None:
    """The PTF runs of one (seed, label mode): the baseline and every way of adding pool data."""
    m = cfg.methods
    threshold = m.uncertainty.threshold if m.uncertainty.enabled else None
    # 0% is the baseline every p-value is taken against: plain PTF (the run `xner train` makes).
    # It also flags uncertain target tokens for review (reference use (a)).
    for p in sorted(set(m.random.percentages if m.random.enabled else ()) | {0.0}):
        if p:
            add("random", p, pool)
        else:
            add("random", 0, None, top={"flag_threshold": threshold} if threshold else None)
    if m.similarity.enabled and ranking:
        chosen = {"similar": ranking[0], "dissimilar": ranking[-1]}
        for which in m.similarity.which:
            for p in m.similarity.percentages:
                if p > 0:
                    add(which, p, [chosen[which]])
    if m.uncertainty.enabled:
        u = m.uncertainty
        for rounds in range(1, u.rounds + 1):
            add("uncertainty", rounds, pool, score=u.score, budget=u.budget)
            if u.compare_random:
                add("uncertainty_random", rounds, pool, score=u.score, budget=u.budget)
    if m.staged.enabled:
        given = {"epochs": m.staged.epochs, "patience": m.staged.patience}
        stage = {**cfg.finetune.model_dump(), **{k: v for k, v in given.items() if v}}
        add("staged", 0, pool, stage=stage)
    _add_target_runs(cfg, add)


def _add_target_runs(cfg: StudyConfig, add: Any) -> None:
    """The PTF runs that change how the target itself is learnt: re-annotation of its uncertain
    training tokens (setting: the entropy threshold) and the O weight (setting: the weight; the
    [finetune] value is the baseline run itself, so it is not run twice)."""
    m = cfg.methods
    if m.reannotate.enabled:
        t = m.reannotate.threshold
        add("reannotate", t, top={"added": {"method": "reannotate", "setting": float(t)}})
    if m.o_weight.enabled:
        for w in m.o_weight.values:
            if w != cfg.finetune.o_weight:
                add("o_weight", w, top={"finetune": {**cfg.finetune.model_dump(), "o_weight": float(w)}})
