"""What the study runner calls, and what its workers are given: shared by the runner and the
real backend (``xner.study.methods``) so neither imports the other's module at load time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xner.study.config import StudyConfig
from xner.study.executors import TaskFn


@dataclass(frozen=True)
class Backend:
    """What the runner calls. ``describe(cfg)`` runs in the driver and returns
    ``{"data_root": str, "domains": [names]}``; the others run in workers as ``fn(arg, context)``."""

    describe: Callable[[StudyConfig], dict[str, Any]]
    execute: TaskFn  # (StudyRun, ctx) -> {"metrics", "model_path"?, "predictions"?}
    choose_target: TaskFn  # ((candidates, pretrain StudyRun), ctx) -> {"rows": [{"domain", "dev_f1"}], "target"}
    distances: TaskFn  # ((names, target, pool), ctx) -> {"tables": {...}, "ranking": [...]}


@dataclass(frozen=True)
class StudyContext:
    """Everything a worker needs besides the run (small, picklable)."""

    config: StudyConfig
    study_dir: Path
    data_root: Path
    pretrained: dict[str, str] = field(default_factory=dict)  # StudyRun.pretrain_key -> model dir
