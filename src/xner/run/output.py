"""A run written out as a model folder: the model, its label map, its training log, its scores
(``metrics.json``) and the resolved config it came from (``run.toml``: ``xner train --config``
on it repeats the run, with the same run id)."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from xner.errors import ConfigError
from xner.run.config import RunConfig
from xner.run.execute import RunHooks, RunResult, run
from xner.run.load import to_toml

RUN_FILE = "run.toml"


def guard_out(out: Path) -> None:
    """Never replace a folder that holds something other than an xner model."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "meta.json").exists())):
        raise ConfigError("--out exists and is not an xner model folder; refusing to overwrite it", out)


def save_run(result: RunResult, out: Path, train_log: Path | None = None) -> None:
    """Write the run's model folder atomically (a crash leaves the old folder or none)."""
    import shutil

    from xner.api import LABEL_MAP_FILE
    from xner.atomic import atomic_dir, write_json, write_text

    with atomic_dir(out) as tmp:
        result.tagger.save(tmp)
        if train_log is not None and train_log.exists():
            shutil.copyfile(train_log, tmp / "train_log.jsonl")
        write_json(tmp / "metrics.json", result.metrics())
        if result.label_map is not None:
            write_json(tmp / LABEL_MAP_FILE, result.label_map.to_json())
        write_text(tmp / RUN_FILE, to_toml(result.config))


def train_to_folder(cfg: RunConfig, out: Path, hooks: RunHooks = RunHooks()) -> RunResult:
    """Run ``cfg`` and save it under ``out``; the target fit's log goes into the folder."""
    guard_out(out)
    with tempfile.TemporaryDirectory(prefix="xner-train-") as work:
        log = Path(work) / "train_log.jsonl"
        result = run(cfg, dataclasses.replace(hooks, log_path=log))
        save_run(result, out, log)
    return result
