"""Run a study: pre-train, choose the target, expand the grid, execute pending runs, resume.

The driver (this module) alone writes the store. What a run does is pluggable: a ``Backend``
holds top-level functions (so they pickle to worker processes and Ray tasks); the real one
lives in ``xner.study.methods``, tests pass fakes. Every run is a ``RunConfig`` (``xner.study.grid``).
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xner.atomic import atomic_open
from xner.errors import ConfigError, UserError
from xner.study import faults
from xner.study.backend import Backend, StudyContext
from xner.study.config import StudyConfig, load_config, with_runtime
from xner.study.executors import TaskFn, TaskResult, make_executor
from xner.study.grid import StudyRun, pretrain_specs, run_specs
from xner.study.store import Store
from xner.transfer.target_choice import TargetRow, worst


@dataclass
class StudyOutcome:
    study_dir: Path
    counts: dict[str, int]
    failed: list[str]
    report: Path | None = None


def default_backend() -> Backend:
    from xner.study import methods

    return methods.BACKEND


@contextmanager
def _study_lock(study_dir: Path) -> Iterator[None]:
    """One driver per study directory: a second one would race on the runs."""
    try:
        study_dir.mkdir(parents=True, exist_ok=True)
        handle = open(study_dir / ".lock", "a+", encoding="utf-8")  # noqa: SIM115
    except OSError as err:
        raise UserError(f"cannot write the study directory: {err.strerror or err}", study_dir) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UserError("another `xner study run` is using this study directory", study_dir) from None
    try:
        yield
    finally:
        handle.close()


def write_predictions(path: Path, predictions: dict[str, Any]) -> None:
    """Compact JSON, atomically (the fault hook fires with the file half written)."""
    text = json.dumps(predictions, separators=(",", ":"))
    half = len(text) // 2
    with atomic_open(path, "w") as handle:
        handle.write(text[:half])
        handle.flush()
        faults.point("predictions")
        handle.write(text[half:])


class _Driver:
    """Submits tasks, records results. Holds the store, the executor and the progress bar."""

    def __init__(self, store: Store, study_dir: Path, executor: Any, progress: Progress | None) -> None:
        self.store, self.study_dir, self.executor, self.progress = store, study_dir, executor, progress
        self.failed: list[str] = []

    def one(self, fn: TaskFn, arg: Any, title: str) -> dict[str, Any]:
        """Run a single study-level task (distances) through the executor."""
        return self.each(fn, [arg], title)[0]

    def each(self, fn: TaskFn, args: list[Any], title: str) -> list[dict[str, Any]]:
        """Run study-level tasks side by side (as many at once as the executor has slots); their
        values in the order of ``args``. Any failure fails the step."""
        task = self.progress.add_task(title, total=len(args)) if self.progress else None
        values: dict[int, dict[str, Any]] = {}
        queue, inflight = list(range(len(args))), 0
        while queue or inflight:
            while queue and inflight < self.executor.slots:
                index = queue.pop(0)
                self.executor.submit(str(index), fn, args[index])
                inflight += 1
            for key, result in self.executor.wait():
                inflight -= 1
                if not result.ok:
                    self._drain(inflight)
                    raise UserError(f"study step failed: {result.error}")
                values[int(key)] = result.value or {}
                if self.progress is not None and task is not None:
                    self.progress.advance(task)
        return [values[i] for i in range(len(args))]

    def _drain(self, inflight: int) -> None:
        """Wait for the tasks still running, so a failed step leaves no work behind."""
        while inflight > 0:
            inflight -= len(self.executor.wait())

    def runs(self, specs: list[StudyRun], fn: TaskFn, title: str) -> None:
        todo = [s for s in specs if not self._finished(s)]
        task = self.progress.add_task(title, total=len(specs), completed=len(specs) - len(todo)) \
            if self.progress else None
        by_id = {s.id: s for s in todo}
        queue, inflight = list(todo), 0
        while queue or inflight:
            while queue and inflight < self.executor.slots:
                spec = queue.pop(0)
                self.store.mark_running(spec.id)
                self.executor.submit(spec.id, fn, spec)
                inflight += 1
            for run_id, result in self.executor.wait():
                inflight -= 1
                self._record(by_id[run_id], result)
                if self.progress is not None and task is not None:
                    self.progress.advance(task)

    def _finished(self, spec: StudyRun) -> bool:
        """Done, and its predictions file (if it has one) is still there."""
        row = self.store.get(spec.id)
        if row is None or row.status != "done":
            return False
        return not row.predictions_path or (self.study_dir / row.predictions_path).is_file()

    def _record(self, spec: StudyRun, result: TaskResult) -> None:
        if not result.ok or result.value is None:
            self.failed.append(f"{spec.label()}: {(result.error or '').splitlines()[0]}")
            self.store.mark_failed(spec.id, result.error or "no result", result.seconds)
            return
        value = result.value
        rel = None
        if value.get("predictions") is not None:
            rel = f"runs/{spec.id[:16]}.json"
            try:
                write_predictions(self.study_dir / rel, value["predictions"])
            except OSError as err:
                raise UserError(f"cannot write predictions: {err.strerror or err}", self.study_dir / rel) from None
        self.store.mark_done(spec.id, value["metrics"], result.seconds, value.get("model_path"), rel)


def _sweep_temp_files(study_dir: Path) -> None:
    """Remove half-written files a killed driver or worker left (we hold the study lock)."""
    patterns = ("runs/.*.tmp", "models/.*.tmp", "models/.*.old", ".report.*", "pretrained/.*.tmp",
                "pretrained/.work.*", "fits/.*.tmp", "fits/.*.old")
    leftovers = [p for pattern in patterns for p in study_dir.glob(pattern)]
    for tmp in leftovers:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def _resolve_domains(cfg: StudyConfig, info: dict[str, Any], path: Path) -> tuple[list[str], list[str]]:
    domains = list(info["domains"])
    if cfg.source not in domains:
        raise ConfigError(f"source: domain {cfg.source!r} not found in {info['data_root']}", path)
    candidates = list(cfg.candidates) or [d for d in domains if d != cfg.source]
    for name in [*candidates, *cfg.pool_domains, *([cfg.target] if cfg.target != "auto" else [])]:
        if name not in domains:
            raise ConfigError(f"domain {name!r} not found in {info['data_root']} (have: {', '.join(domains)})", path)
    return domains, candidates


def _target(drv: _Driver, cfg: StudyConfig, ctx: StudyContext, candidates: list[str],
            pre: list[StudyRun], backend: Backend) -> str:
    if cfg.target != "auto":
        return cfg.target
    mode = "raw" if "raw" in cfg.label_modes else cfg.label_modes[0]
    spec = next(s for s in pre if s.label_mode == mode and s.seed == cfg.seeds[0])
    if spec.pretrain_key not in ctx.pretrained:
        raise UserError(f"pre-training failed ({spec.label()}); see `xner study status`")
    key = {"pretrain": spec.id, "candidates": candidates, "finetune": cfg.finetune.model_dump(mode="json")}
    stored = drv.store.artefact("target_choice")
    if stored is None or stored.get("key") != key:
        # one task a candidate: the fits run side by side, and the worst dev F1 is the target
        parts = drv.each(backend.choose_target, [([name], spec) for name in candidates], "target choice")
        rows = [row for part in parts for row in part["rows"]]
        target = worst([TargetRow(r["domain"], r["train"], r["dev"], r["dev_f1"]) for r in rows]).domain
        stored = {"key": key, "label_mode": mode, "seed": cfg.seeds[0], "rows": rows, "target": target}
        drv.store.put_artefact("target_choice", stored)
    return str(stored["target"])


def _ranking(drv: _Driver, cfg: StudyConfig, names: list[str], target: str, pool: list[str],
             backend: Backend) -> list[str] | None:
    if not cfg.methods.similarity.enabled:
        return None
    sim = cfg.methods.similarity
    key = {"names": names, "target": target, "pool": pool, "method": sim.method, "metric": sim.metric}
    stored = drv.store.artefact("distances")
    if stored is None or stored.get("key") != key:
        stored = {"key": key, **drv.one(backend.distances, (names, target, pool), "distances")}
        drv.store.put_artefact("distances", stored)
    return list(stored["ranking"])


def _pretrained(store: Store, specs: list[StudyRun]) -> dict[str, str]:
    out = {}
    for spec in specs:
        row = store.get(spec.id)
        if row is not None and row.status == "done" and row.model_path:
            out[spec.pretrain_key] = row.model_path
    return out


def _stale_pretrained(store: Store, specs: list[StudyRun]) -> None:
    """A finished pre-training whose model folder vanished must run again."""
    for spec in specs:
        row = store.get(spec.id)
        if row is not None and row.status == "done" and row.model_path and not Path(row.model_path).exists():
            store.mark_failed(spec.id, "pre-trained model folder is missing")


def _progress(quiet: bool, console: Console) -> Progress | None:
    if quiet or not console.is_terminal:
        return None
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def run_study(config_path: str | Path, out: str | Path | None = None, executor: str = "local",
              jobs: int = 1, address: str | None = None, quiet: bool = False,
              backend: Backend | None = None, console: Console | None = None,
              report: bool = True, **runtime: Any) -> StudyOutcome:
    """Run (or resume) the study a config describes; returns where it is and what failed.
    ``runtime``: [runtime] overrides (device, precision, deterministic, gpus_per_worker; None
    keeps the config's). The device is checked, and said, before any data is read."""
    if executor not in ("local", "ray"):
        raise UserError(f"unknown executor {executor!r} (choose local or ray)")
    if address is not None and executor != "ray":
        raise UserError("--address only makes sense with --executor ray")
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    config_path = Path(config_path)
    cfg = with_runtime(load_config(config_path), **runtime)
    backend = backend or default_backend()
    console = console or Console(stderr=True, quiet=quiet)
    study_dir = Path(out) if out is not None else Path("studies") / cfg.name
    with _study_lock(study_dir), Store(study_dir) as store:
        store.check_schema()
        _sweep_temp_files(study_dir)
        ex = make_executor(executor, None, jobs=jobs, address=address, runtime=cfg.runtime)
        progress = None
        try:
            if ex.where and not quiet:
                console.print(ex.where, highlight=False)
            progress = _progress(quiet, console)
            drv = _Driver(store, study_dir, ex, progress)
            pre, specs = _execute(drv, cfg, config_path, backend)
        finally:
            if progress is not None:
                progress.stop()
            ex.close()
        counts = store.counts([s.id for s in pre + specs])
    outcome = StudyOutcome(study_dir, counts, drv.failed)
    if report:
        from xner.study.report import write_report

        outcome.report = write_report(study_dir)
    return outcome


def _execute(drv: _Driver, cfg: StudyConfig, config_path: Path,
             backend: Backend) -> tuple[list[StudyRun], list[StudyRun]]:
    """Pre-train, choose the target, rank the pool, run the grid: (pre-training runs, result runs)."""
    store, study_dir, ex = drv.store, drv.study_dir, drv.executor
    info = backend.describe(cfg)
    names, candidates = _resolve_domains(cfg, info, config_path)
    try:
        shutil.copyfile(config_path, study_dir / "config.toml")
    except OSError as err:
        raise UserError(f"cannot write the study directory: {err.strerror or err}", study_dir) from None
    store.put_artefact("config", cfg.model_dump(mode="json"))
    ctx = StudyContext(cfg, study_dir.resolve(), Path(info["data_root"]))
    ex.set_context(ctx)
    where = {"data_root": ctx.data_root, "study_dir": ctx.study_dir}
    pre = pretrain_specs(cfg, cfg.target if cfg.target != "auto" else candidates[0], **where)
    store.add_runs([s.row() for s in pre])
    _stale_pretrained(store, pre)
    if drv.progress is not None:
        drv.progress.start()
    drv.runs(pre, backend.execute, "pre-training")
    ctx = replace(ctx, pretrained=_pretrained(store, pre))
    ex.set_context(ctx)
    target = _target(drv, cfg, ctx, candidates, pre, backend)
    pool = list(cfg.pool_domains) or [d for d in candidates if d != target]
    ranking = _ranking(drv, cfg, sorted({*names}), target, pool, backend)
    specs = run_specs(cfg, target, pool, ranking, **where)
    store.add_runs([s.row() for s in specs])
    store.put_artefact("grid", {"pretrain": [s.id for s in pre], "runs": [s.id for s in specs],
                                "target": target, "pool": pool})
    drv.runs([s for s in specs if ctx.pretrained.get(s.pretrain_key) or s.config.mode != "ptf"],
             backend.execute, "runs")
    return pre, specs
