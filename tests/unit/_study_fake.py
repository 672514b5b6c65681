"""A fake study backend: deterministic 'runs' with no model, to test the runner machinery.

Each result run predicts a fixed gold corpus with errors whose rate depends on the method and
setting, drawn from a generator seeded by the run's seed (so equal specs give equal results).
Importable by spawned workers (tests/unit is on sys.path under pytest and in the scripts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from xner.study import faults
from xner.study.backend import Backend

TOML = """
name = "fake"
source = "src"
candidates = ["a", "b", "c"]
seeds = [1, 2]
label_modes = ["raw", "normalised"]
[methods.random]
percentages = [0, 50]
[methods.similarity]
percentages = [50]
[methods.uncertainty]
rounds = 1
budget = 5
"""

TYPES = ("PER", "ORG", "LOC")


def gold_corpus(n: int = 40) -> list[list[str]]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        tags = []
        for _ in range(int(rng.integers(3, 9))):
            tags.append("O" if rng.random() < 0.6 else f"B-{TYPES[int(rng.integers(3))]}")
        out.append(tags)
    return out


def entity_f1(gold: list[list[str]], pred: list[list[str]]) -> float:
    """F1 over single-token entities (the fake only emits B- tags); no seqeval import in workers."""
    g = {(i, j, t) for i, s in enumerate(gold) for j, t in enumerate(s) if t != "O"}
    p = {(i, j, t) for i, s in enumerate(pred) for j, t in enumerate(s) if t != "O"}
    return 2 * len(g & p) / (len(g) + len(p)) if g or p else 0.0


def describe(cfg: Any) -> dict[str, Any]:
    return {"data_root": "/nonexistent", "domains": ["a", "b", "c", "src"], "label_map_sha256": None}


def _calls_log(ctx: Any, what: str) -> None:
    """Append one line per executed task, so tests can count (re)executions."""
    with open(Path(ctx.study_dir) / "calls.log", "a", encoding="utf-8") as handle:
        handle.write(what + "\n")


def execute(spec: Any, ctx: Any) -> dict[str, Any]:
    _calls_log(ctx, f"{spec.method} {spec.setting:g} {spec.label_mode} {spec.seed}")
    if os.environ.get("FAKE_FAIL_METHOD") == spec.method:
        raise RuntimeError("fake failure")
    if spec.method == "pretrain":
        faults.point("pretrain")
        path = Path(ctx.study_dir) / "pretrained" / spec.id[:12]
        path.mkdir(parents=True, exist_ok=True)
        return {"metrics": {"source_dev_f1": 0.8}, "model_path": str(path)}
    assert spec.pretrain_key in ctx.pretrained or spec.method in ("dft", "jt")
    faults.point("run")
    gold = gold_corpus()
    error = 0.5 - 0.004 * spec.setting - (0.1 if spec.label_mode == "normalised" else 0.0)
    rng = np.random.default_rng([spec.seed, int(spec.setting), len(spec.method)])
    pred = [[("O" if t != "O" else "B-PER") if rng.random() < error else t for t in s] for s in gold]
    n_added = int(spec.setting * 2)
    return {"metrics": {"test_f1": entity_f1(gold, pred), "n_added": n_added},
            "predictions": {"gold": gold, "pred": pred}}


def choose_target(arg: Any, ctx: Any) -> dict[str, Any]:
    candidates, _spec = arg
    _calls_log(ctx, "choose_target")
    # a score of the name alone (the study asks one candidate a task): "c" is the worst of a, b, c
    rows = [{"domain": d, "train": 10, "dev": 5, "dev_f1": 0.5 - 0.001 * sum(map(ord, d))} for d in candidates]
    return {"rows": rows, "target": min(rows, key=lambda r: r["dev_f1"])["domain"]}


def distances(arg: Any, ctx: Any) -> dict[str, Any]:
    names, target, pool = arg
    _calls_log(ctx, "distances")
    values = [[abs(i - j) * 1.0 for j in range(len(names))] for i in range(len(names))]
    ranking = sorted(pool, key=lambda d: abs(names.index(d) - names.index(target)))
    return {"tables": {"euclidean": {"names": names, "values": values}}, "ranking": ranking}


BACKEND = Backend(describe=describe, execute=execute, choose_target=choose_target, distances=distances)


def write_config(folder: Path, text: str = TOML) -> Path:
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path
