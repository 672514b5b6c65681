"""``xner study plan``: what ``xner study run`` would do, and about how long, without running it.

The grid is expanded exactly as the runner does (same run ids), so a study directory's store
tells which runs and pre-trainings are already done; the estimate is the median seconds per
method of the runs this store has finished (threads per run as configured, so seconds of one
worker), times the runs left.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xner.study.config import StudyConfig, load_config
from xner.study.grid import StudyRun, pretrain_specs, run_specs
from xner.study.store import RunRow, Store


@dataclass
class Plan:
    config: StudyConfig
    study_dir: Path
    target: str
    target_known: bool
    pretrain: list[StudyRun]
    runs: list[StudyRun]
    status: dict[str, str] = field(default_factory=dict)  # run id -> store status ("new" if absent)
    seconds: dict[str, list[float]] = field(default_factory=dict)  # method -> seconds of done runs

    def left(self, specs: list[StudyRun]) -> list[StudyRun]:
        return [s for s in specs if self.status.get(s.id) != "done"]


def _stored(store: Store | None, name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """A study artefact, if the store has one made for this very key (as the runner checks)."""
    value = store.artefact(name) if store is not None else None
    return value if isinstance(value, dict) and value.get("key") == key else None


def _choice(cfg: StudyConfig, store: Store | None, candidates: list[str], pre: list[StudyRun]) -> tuple[str, bool]:
    """(target, whether it is known): given, or chosen earlier into this store."""
    if cfg.target != "auto":
        return cfg.target, True
    mode = "raw" if "raw" in cfg.label_modes else cfg.label_modes[0]
    spec = next(s for s in pre if s.label_mode == mode and s.seed == cfg.seeds[0])
    key = {"pretrain": spec.id, "candidates": candidates, "finetune": cfg.finetune.model_dump(mode="json")}
    stored = _stored(store, "target_choice", key)
    return (str(stored["target"]), True) if stored else (candidates[0], False)


def make_plan(config_path: str | Path, out: str | Path | None = None) -> Plan:
    """Expand the study a config describes; read (never write) the study directory's store."""
    from xner.data.conll import discover_domains
    from xner.data.sources import find_data_root
    from xner.study.runner import _resolve_domains

    config_path = Path(config_path)
    cfg = load_config(config_path)
    study_dir = Path(out) if out is not None else Path("studies") / cfg.name
    root = find_data_root(cfg.data_root)
    info = {"data_root": str(root), "domains": discover_domains(root, complete_only=True)}
    names, candidates = _resolve_domains(cfg, info, config_path)
    store = Store(study_dir, readonly=True) if (study_dir / "study.db").is_file() else None
    try:
        if store is not None:
            store.check_schema()
        where = {"data_root": root, "study_dir": study_dir.resolve()}
        pre = pretrain_specs(cfg, cfg.target if cfg.target != "auto" else candidates[0], **where)
        target, known = _choice(cfg, store, candidates, pre)
        pool = list(cfg.pool_domains) or [d for d in candidates if d != target]  # as the runner has it
        sim = cfg.methods.similarity
        key = {"names": sorted({*names}), "target": target, "pool": pool, "method": sim.method, "metric": sim.metric}
        distances = _stored(store, "distances", key)
        ranking = list(distances["ranking"]) if distances else pool
        plan = Plan(cfg, study_dir, target, known, pre, run_specs(cfg, target, pool, ranking, **where))
        if store is not None:
            _read_store(plan, store)
    finally:
        if store is not None:
            store.close()
    return plan


def _read_store(plan: Plan, store: Store) -> None:
    rows: list[RunRow] = store.runs()
    plan.status = {r.id: r.status for r in rows}
    for r in rows:
        if r.status == "done" and r.seconds is not None:
            plan.seconds.setdefault(r.method, []).append(float(r.seconds))
    for spec in plan.pretrain:  # a pre-training whose folder vanished runs again
        row = next((r for r in rows if r.id == spec.id), None)
        if row is not None and row.status == "done" and row.model_path and not Path(row.model_path).exists():
            plan.status[spec.id] = "missing"


def _grid_lines(plan: Plan) -> list[str]:
    groups: dict[tuple[str, float, str], list[StudyRun]] = {}
    for spec in plan.runs:
        groups.setdefault((spec.method, spec.setting, spec.label_mode), []).append(spec)
    lines = ["| method | setting | label mode | seeds | done | to run |", "|---|---|---|---|---|---|"]
    for (method, setting, mode), specs in groups.items():
        left = len(plan.left(specs))
        seeds = ", ".join(str(s.seed) for s in specs)
        lines.append(f"| {method} | {setting:g} | {mode} | {seeds} | {len(specs) - left} | {left} |")
    return lines


def _pretrain_lines(plan: Plan) -> list[str]:
    lines = ["| label mode | seed | task id | state |", "|---|---|---|---|"]
    for spec in plan.pretrain:
        state = {"done": "cached", "missing": "cached folder missing: runs again"}.get(plan.status.get(spec.id, ""),
                                                                                     "to run")
        lines.append(f"| {spec.label_mode} | {spec.seed} | {spec.id[:12]} | {state} |")
    return lines


def estimate_lines(plan: Plan) -> list[str]:
    """CPU time of what is left, from this store's own median seconds per method."""
    left = Counter(s.method for s in plan.left(plan.pretrain) + plan.left(plan.runs))
    if not left:
        return ["Nothing left to run."]
    if not plan.seconds:
        return [f"Estimate: no timings yet ({sum(left.values())} tasks left; this store has no finished run)."]
    median = {m: statistics.median(v) for m, v in plan.seconds.items()}
    known = sum(n * median[m] for m, n in left.items() if m in median)
    unknown = sorted(m for m in left if m not in median)
    lines = [f"Estimate: {known / 60:.1f} min of one worker for {sum(n for m, n in left.items() if m in median)} "
             f"of the {sum(left.values())} tasks left (divide by --jobs for the wall time on that many cores).",
             "", "| method | tasks left | median s per task (this store) | done runs timed |", "|---|---|---|---|"]
    lines += [f"| {m} | {n} | {median[m]:.1f} | {len(plan.seconds[m])} |" if m in median else
              f"| {m} | {n} | no timings yet | 0 |" for m, n in sorted(left.items())]
    if unknown:
        lines += ["", f"Not in the estimate (no timings yet): {', '.join(unknown)}."]
    return lines


def plan_text(config_path: str | Path, out: str | Path | None = None) -> str:
    """The plan as Markdown, for ``xner study plan``."""
    plan = make_plan(config_path, out)
    cfg = plan.config
    target = plan.target if plan.target_known else \
        f"auto, not chosen yet (shown with {plan.target} in its place; the run count is the same)"
    left = len(plan.left(plan.runs))
    lines = [f"# Plan of study `{cfg.name}` in {plan.study_dir}", "",
             f"Source {cfg.source}, target {target}; backbone {cfg.backbone}; label modes "
             f"{', '.join(cfg.label_modes)}; seeds {', '.join(str(s) for s in cfg.seeds)}.", "",
             f"{len(plan.runs)} runs: {len(plan.runs) - left} done, {left} to run. Nothing is run by this command.",
             "", "## Pre-trainings (cached in the study directory)", "", *_pretrain_lines(plan), "",
             "## Runs", "", *_grid_lines(plan), "", "## CPU time", "", *estimate_lines(plan)]
    return "\n".join(lines) + "\n"
