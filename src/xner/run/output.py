"""A run written out as a model folder: the model, its label map, its training log, its scores
(``metrics.json``) and the resolved config it came from (``run.toml``: ``xner train --config``
on it repeats the run, with the same run id)."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
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


def save_run(result: RunResult, out: Path, train_log: Path | None = None,
             checkpoint: Callable[[str], None] | None = None) -> None:
    """Write the run's model folder atomically (a crash leaves the old folder or none).
    ``checkpoint("checkpoint")`` is called with the model half written (the study's fault tests)."""
    from xner.atomic import write_text
    from xner.models.modeldir import save_model

    def finish(tmp: Path) -> None:
        write_text(tmp / RUN_FILE, to_toml(result.config))
        if checkpoint is not None:
            checkpoint("checkpoint")

    save_model(out, result.tagger, train_log=train_log, metrics=result.metrics(), before_commit=finish)


def train_to_folder(cfg: RunConfig, out: Path, hooks: RunHooks = RunHooks()) -> RunResult:
    """Run ``cfg`` and save it under ``out``; the target fit's log goes into the folder."""
    guard_out(out)
    with tempfile.TemporaryDirectory(prefix="xner-train-") as work:
        log = Path(work) / "train_log.jsonl"
        result = run(cfg, dataclasses.replace(hooks, log_path=log))
        save_run(result, out, log)
    return result
