"""Aggregate a study's runs: mean ± std over seeds, a paired bootstrap p-value vs the baseline and
its Holm-Bonferroni adjustment over every p-value of the study.

The baseline of a run is the PTF run with 0% added data, same label mode and seed. The
bootstrap resamples test sentences (the same resample for both systems and for every seed),
1000 samples with a fixed seed; micro entity F1 is recomputed from per-sentence counts, which
equals seqeval's default-mode micro F1 on the resampled corpus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xner.data.tags import entity_spans
from xner.errors import UserError
from xner.study.grid import BASELINE, RESULT_METHODS
from xner.study.store import RunRow, Store

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 12345


def sentence_counts(gold: list[list[str]], pred: list[list[str]]) -> np.ndarray:
    """(n, 3) int array per sentence: true positives, predicted entities, gold entities."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    out = np.zeros((len(gold), 3), dtype=np.int64)
    for i, (g_tags, p_tags) in enumerate(zip(gold, pred)):
        # The same spans as the metrics (xner.data.tags), so the counts add up to entity_scores'.
        g, p = set(entity_spans(g_tags)), set(entity_spans(p_tags))
        out[i] = (len(g & p), len(p), len(g))
    return out


def f1_from_counts(counts: np.ndarray) -> np.ndarray:
    """Micro F1 = 2 tp / (pred + gold) over the last-but-one axis; 0 where there is nothing."""
    totals = counts.sum(axis=-2)
    denom = totals[..., 1] + totals[..., 2]
    return np.where(denom > 0, 2.0 * totals[..., 0] / np.maximum(denom, 1), 0.0)


def paired_bootstrap(system: list[np.ndarray], baseline: list[np.ndarray],
                     samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED) -> float:
    """Two-sided p-value of the mean F1 difference (system - baseline) over seeds.

    Null-centred test (Berg-Kirkpatrick et al. 2012): p = share of resamples whose difference
    deviates from the observed one by at least the observed difference itself.
    """
    if not system or len(system) != len(baseline):
        raise ValueError("need the same seeds for system and baseline")
    n = len(system[0])
    if any(len(c) != n for c in [*system, *baseline]):
        raise ValueError("system and baseline were scored on different test sets")
    observed = np.mean([f1_from_counts(s) - f1_from_counts(b) for s, b in zip(system, baseline, strict=True)])
    idx = np.random.default_rng(seed).integers(0, n, size=(samples, n))
    deltas = np.zeros(samples)
    for s, b in zip(system, baseline, strict=True):
        deltas += f1_from_counts(s[idx]) - f1_from_counts(b[idx])
    deltas /= len(system)
    return float(np.mean(np.abs(deltas - observed) >= abs(observed) - 1e-12))


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values, in the order given (None stays None and is not counted).

    Sorted ascending, the i-th of m (from 0) becomes max over j <= i of min(1, (m - j) p_(j)): a
    step-down that controls the family-wise error rate, so ties get equal values and none
    exceeds 1. Compare each adjusted value with alpha directly.
    """
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    out: list[float | None] = [None] * len(p_values)
    running, m = 0.0, len(present)
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def format_p(value: float | None) -> str:
    """A p-value as the report prints it: 3 decimals, ``< 0.001`` below that, ``—`` when none."""
    return "—" if value is None else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def setting_text(method: str, setting: float) -> str:
    """What a group's setting means: a share of the pool, a number of rounds, or nothing."""
    if method in ("dft", "jt", "staged"):
        return ""
    if method == "reannotate":
        return f"entropy > {setting:g}"
    if method == "o_weight":
        return f"O weight {setting:g}"
    return f"{setting:g} round(s)" if method.startswith("uncertainty") else f"{setting:g}%"


@dataclass
class Group:
    """All seeds of one (method, setting, label mode)."""

    method: str
    setting: float
    label_mode: str
    runs: list[RunRow] = field(default_factory=list)
    p_value: float | None = None
    p_adjusted: float | None = None  # Holm-Bonferroni over all the groups of one summary

    def values(self, key: str = "test_f1") -> np.ndarray:
        return np.array([float(r.metrics[key]) for r in self.runs if r.metrics and key in r.metrics])

    @property
    def mean(self) -> float:
        return float(self.values().mean())

    @property
    def std(self) -> float:
        v = self.values()
        return float(v.std(ddof=1)) if len(v) > 1 else 0.0

    @property
    def n_added(self) -> float:
        v = self.values("n_added")
        return float(v.mean()) if len(v) else 0.0

    @property
    def n_added_tokens(self) -> float | None:
        """Mean tokens added over seeds; None when the runs predate token counts."""
        v = self.values("n_added_tokens")
        return float(v.mean()) if len(v) == len(self.runs) and len(v) else None

    @property
    def seeds(self) -> list[int]:
        return sorted(r.seed for r in self.runs)


def load_predictions(study_dir: Path, row: RunRow) -> dict[str, Any]:
    if not row.predictions_path:
        raise UserError(f"run {row.id[:12]} has no predictions file", study_dir / "study.db")
    path = study_dir / row.predictions_path
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"cannot read predictions: {err}", path) from None


def grid_rows(store: Store) -> list[RunRow]:
    """Finished result runs of the current grid (older grids' rows are ignored)."""
    grid = store.artefact("grid") or {}
    ids = grid.get("runs")
    return [r for r in store.runs(ids, status="done") if r.method in RESULT_METHODS]


def summarise(study_dir: Path, store: Store, samples: int = BOOTSTRAP_SAMPLES) -> list[Group]:
    """Groups in a stable order, each with its bootstrap p-value against the baseline."""
    groups: dict[tuple[str, float, str], Group] = {}
    for row in grid_rows(store):
        key = (row.method, row.setting, row.label_mode)
        groups.setdefault(key, Group(*key)).runs.append(row)
    counts: dict[str, np.ndarray] = {}

    def counts_of(row: RunRow) -> np.ndarray:
        if row.id not in counts:
            pred = load_predictions(study_dir, row)
            counts[row.id] = sentence_counts(pred["gold"], pred["pred"])
        return counts[row.id]

    for (method, setting, mode), group in groups.items():
        base = groups.get((*BASELINE, mode))
        if base is None or (method, setting) == BASELINE:
            continue
        base_by_seed = {r.seed: r for r in base.runs}
        pairs = [(r, base_by_seed[r.seed]) for r in group.runs if r.seed in base_by_seed]
        if pairs:
            group.p_value = paired_bootstrap([counts_of(r) for r, _ in pairs],
                                             [counts_of(b) for _, b in pairs], samples=samples)
    order = {m: i for i, m in enumerate(RESULT_METHODS)}
    ordered = sorted(groups.values(), key=lambda g: (g.label_mode, order[g.method], g.setting))
    for group, adjusted in zip(ordered, holm([g.p_value for g in ordered]), strict=True):
        group.p_adjusted = adjusted
    return ordered
