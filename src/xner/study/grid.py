"""Runs: frozen specs whose identity is the sha256 of their canonical resolved JSON.

A study expands to method x setting x label mode x seed (x backbone). Pre-training is a run of
its own (method ``pretrain``), once per (seed, label mode, backbone).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from xner.models.base import TrainConfig
from xner.study.config import StudyConfig

Method = Literal["pretrain", "random", "similar", "dissimilar", "uncertainty", "uncertainty_random",
                 "staged", "dft", "jt"]
# Runs that are compared with the baseline in the report (pretrain is a means, not a result).
RESULT_METHODS: tuple[str, ...] = ("random", "similar", "dissimilar", "uncertainty",
                                   "uncertainty_random", "staged", "dft", "jt")
BASELINE = ("random", 0.0)


class RunSpec(BaseModel):
    """One run, fully resolved: nothing in it depends on the machine it runs on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method
    setting: float = 0.0  # percent added (random/similar/dissimilar) or rounds (uncertainty*)
    label_mode: Literal["raw", "normalised"]
    seed: int
    backbone: Literal["bilstm_crf", "encoder"]
    model: dict[str, Any] = {}
    source: str
    source_subset: int | None = None
    label_map_sha256: str | None = None
    target: str | None = None
    added_domains: tuple[str, ...] = ()
    pool_splits: tuple[str, ...] = ("train", "dev")
    pretrain: TrainConfig
    finetune: TrainConfig | None = None
    uncertainty: dict[str, Any] | None = None
    label_init: Literal["fresh", "map"] = "fresh"
    stage: TrainConfig | None = None  # staged runs: training settings of the pooled stage

    def canonical(self) -> str:
        data = self.model_dump(mode="json")
        # Left out at their defaults: ids of runs from before these fields existed stay valid.
        if data["label_init"] == "fresh":
            del data["label_init"]
        if data["stage"] is None:
            del data["stage"]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @property
    def id(self) -> str:
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

    @property
    def pretrain_key(self) -> str:
        """Which pre-trained model this run starts from."""
        return f"{self.backbone}|{self.label_mode}|{self.seed}"

    def label(self) -> str:
        return f"{self.method} {self.setting:g} {self.label_mode} seed={self.seed}"


def _base(cfg: StudyConfig, mode: str, seed: int, label_map_sha: str | None) -> dict[str, Any]:
    return {
        "label_mode": mode,
        "seed": seed,
        "backbone": cfg.backbone,
        "model": dict(cfg.model),
        "source": cfg.source,
        "source_subset": cfg.source_subset,
        "label_map_sha256": label_map_sha,
        "pretrain": cfg.pretrain.model_copy(update={"seed": seed}),
    }


def pretrain_specs(cfg: StudyConfig, label_map_sha: str | None) -> list[RunSpec]:
    return [RunSpec(method="pretrain", **_base(cfg, mode, seed, label_map_sha))
            for mode in cfg.label_modes for seed in cfg.seeds]


def run_specs(cfg: StudyConfig, target: str, pool: list[str], ranking: list[str] | None,
              label_map_sha: str | None) -> list[RunSpec]:
    """The result grid. ``ranking``: pool domains, most similar to the target first."""
    specs: list[RunSpec] = []
    m = cfg.methods
    # Seed-major order: a study stopped early still has whole seeds, with both label modes.
    for seed in cfg.seeds:
        for mode in cfg.label_modes:
            base = _base(cfg, mode, seed, label_map_sha)
            base.update(target=target, finetune=cfg.finetune.model_copy(update={"seed": seed}),
                        pool_splits=cfg.pool_splits, label_init=cfg.label_init)

            def add(method: str, setting: float, domains: list[str], **extra: Any) -> None:
                specs.append(RunSpec(method=method, setting=float(setting),  # type: ignore[arg-type]
                                     added_domains=tuple(domains), **base, **extra))

            percents = sorted(set(m.random.percentages if m.random.enabled else ()) | {0.0})
            flag = {"threshold": m.uncertainty.threshold} if m.uncertainty.enabled else None
            for p in percents:  # 0% is the baseline every p-value is taken against
                # The baseline also flags uncertain target tokens for review (reference use (a)).
                add("random", p, pool if p else [], **({"uncertainty": flag} if p == 0 else {}))
            if m.similarity.enabled and ranking:
                chosen = {"similar": ranking[0], "dissimilar": ranking[-1]}
                for which in m.similarity.which:
                    for p in m.similarity.percentages:
                        if p > 0:
                            add(which, p, [chosen[which]])
            if m.uncertainty.enabled:
                u = m.uncertainty
                info = {"score": u.score, "budget": u.budget, "threshold": u.threshold}
                for rounds in range(1, u.rounds + 1):
                    add("uncertainty", rounds, pool, uncertainty=info)
                    if u.compare_random:
                        add("uncertainty_random", rounds, pool, uncertainty=info)
            others = [d for d in pool if d != target]  # an "auto" target may be a listed pool domain
            if m.staged.enabled and others:
                given = {"epochs": m.staged.epochs, "patience": m.staged.patience}
                stage = cfg.finetune.model_copy(update={"seed": seed, **{k: v for k, v in given.items() if v}})
                add("staged", 0, others, stage=stage)
            for method in ("dft", "jt"):
                if getattr(m.baselines, method):
                    add(method, 0, [])
    return specs
