"""The training loop shared by every backbone: seeded, clipped, early-stopped on dev entity F1.

It needs only the ``TrainableTagger`` protocol (``module``, ``fitting``, ``param_groups``,
``batches``, ``loss``, ``predict``, ``to``, ``device``, ``precision``), so the BiLSTM-CRF and the
encoder tagger train the same way. The trainer calls the tagger, never the other way round:
``xner.models`` does not import this.

Runtime (``TrainConfig.device``, ``precision``, ``deterministic``): the tagger is moved to the
device first; forward passes autocast to bf16/fp16 when asked (the CRF stays fp32), fp16 scales
its loss (``GradScaler``); the best weights are kept as CPU copies, so a GPU holds one model.
``accumulate`` = k adds the gradients of k batches before one optimiser step, each batch's mean
loss weighted by its share of the k batches' sentences: exactly one batch of them all.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xner.atomic import write_text
from xner.data.corpus import Sentence
from xner.models.base import EpochLog, FitResult, ProgressFn, TrainableTagger, TrainConfig
from xner.models.device import autocast, grad_scaler, resolve_device, resolve_precision, set_deterministic


def dev_f1(tagger: TrainableTagger, dev: Sequence[Sentence]) -> float:
    """Entity micro F1 (seqeval default mode, as conlleval) of ``tagger`` on ``dev``."""
    gold = [list(s.tags) for s in dev]
    pred = tagger.predict(dev)
    try:  # the evaluation module is the single home of the metric once it exists
        from xner.evaluation.metrics import entity_f1
    except ImportError:  # pragma: no cover - only before evaluation/metrics.py is written
        from seqeval.metrics import f1_score

        return float(f1_score(gold, pred, zero_division=0))
    return float(entity_f1(gold, pred))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def group_params(groups: Sequence[dict[str, Any]]) -> list[torch.nn.Parameter]:
    """Every parameter of ``groups``, in order."""
    return [p for group in groups for p in group["params"]]


def make_optimizer(groups: Sequence[dict[str, Any]] | Sequence[torch.nn.Parameter],
                   cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser of ``cfg`` over parameter groups (a tagger's ``param_groups``) or a plain
    parameter list; a group's own options (e.g. ``lr``) override ``cfg``'s."""
    items: list[dict[str, Any]] = [g if isinstance(g, dict) else {"params": [g]} for g in groups]
    if items and not isinstance(groups[0], dict):  # a plain list is one group, as torch makes it
        items = [{"params": group_params(items)}]
    params = group_params(items)
    # The fused kernels do Adam's update in one pass; on CPU the plain loop spent ~30% of a
    # BiLSTM-CRF training step updating the (dense) word-embedding table.
    fused = bool(params) and all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(items, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused or None)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(items, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused or None)
    # Momentum makes SGD usable at the Adam-sized learning rates most configs carry.
    return torch.optim.SGD(items, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)


def make_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Linear warm-up over ``cfg.warmup`` of all steps, then linear decay to 0 at the last epoch.

    None for the constant schedule. Early stopping may end training before the decay does.
    """
    if cfg.lr_schedule == "constant":
        return None
    total = max(1, cfg.epochs * steps_per_epoch)
    warm = int(cfg.warmup * total)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / (warm + 1)
        return max(0.0, (total - step) / max(1, total - warm))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """CPU copies of the weights (on a GPU, the best epoch's copy must not double its memory)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


class _EpochLogFile:
    """The JSONL epoch log, rewritten atomically after each epoch so a reader never sees half a line."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lines: list[str] = []

    def add(self, entry: EpochLog) -> None:
        if self.path is None:
            return
        self.lines.append(entry.to_line())
        write_text(self.path, "\n".join(self.lines) + "\n")


@dataclass
class Stepper:
    """One optimiser step's machinery: where the forward passes run, in what precision, the
    loss scaler (fp16 only) and the clipping of the gradients before the step."""

    optimizer: torch.optim.Optimizer
    device: torch.device
    precision: str = "fp32"
    clip: float = 5.0
    scaler: torch.amp.GradScaler | None = None

    def __post_init__(self) -> None:
        self.params = group_params(self.optimizer.param_groups)

    @classmethod
    def for_fit(cls, tagger: TrainableTagger, optimizer: torch.optim.Optimizer, cfg: TrainConfig) -> Stepper:
        """The stepper of a fit of ``tagger`` under ``cfg``: its device and precision, ``cfg``'s clip."""
        device = tagger.device
        return cls(optimizer, device, tagger.precision, cfg.clip, grad_scaler(device, tagger.precision))

    def backward(self, tagger: TrainableTagger, group: Sequence[Any], o_weight: float) -> tuple[float, int]:
        """Add the gradients of ``group`` (batches) as one batch of all their sentences: each
        batch's mean loss is weighted by its share. Returns (sum of loss x sentences, sentences)."""
        sizes = [_batch_size(batch) for batch in group]
        whole = sum(sizes)
        total = 0.0
        for batch, size in zip(group, sizes):
            with autocast(self.device, self.precision):
                loss = tagger.loss(batch, o_weight)
            part = loss if len(group) == 1 else loss * (size / whole)  # one batch: the loss as it is
            (self.scaler.scale(part) if self.scaler is not None else part).backward()
            total += float(loss.detach()) * size
        return total, whole

    def step(self) -> None:
        """Clip the (unscaled) gradients and step; an fp16 step with inf/NaN gradients is skipped."""
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()


def _groups(batches: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive groups of ``size`` batches (the last may be smaller)."""
    group: list[Any] = []
    for batch in batches:
        group.append(batch)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def _run_epoch(
    tagger: TrainableTagger,
    train: Sequence[Sentence],
    cfg: TrainConfig,
    stepper: Stepper,
    rng: np.random.Generator,
    deadline: float | None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> tuple[float, int, bool]:
    """One pass over ``train``. Returns (mean loss per sentence, sentences seen, out of time)."""
    tagger.module.train()
    total, seen = 0.0, 0
    for group in _groups(tagger.batches(train, cfg.batch_size, rng, train=True), cfg.accumulate):
        stepper.optimizer.zero_grad(set_to_none=True)
        loss, size = stepper.backward(tagger, group, cfg.o_weight)
        stepper.step()
        if scheduler is not None:
            scheduler.step()
        total += loss
        seen += size
        if deadline is not None and time.monotonic() >= deadline:
            return total / max(seen, 1), seen, True
    return total / max(seen, 1), seen, False


def _batch_size(batch: object) -> int:
    """Sentences in a batch, to weight the epoch's mean loss.

    Accepted shapes: an object with an int ``size``, a dict of tensors (first dim of the first
    tensor), an object with a tensor ``mask`` (first dim), else ``len(batch)``.
    """
    size = getattr(batch, "size", None)
    if isinstance(size, int):
        return size
    if isinstance(batch, dict):
        for value in batch.values():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                return int(value.shape[0])
    mask = getattr(batch, "mask", None)
    if isinstance(mask, torch.Tensor):
        return int(mask.shape[0])
    return len(batch) if hasattr(batch, "__len__") else 1


def fit(
    tagger: TrainableTagger,
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    cfg: TrainConfig,
    progress: ProgressFn | None = None,
    log_path: Path | None = None,
) -> FitResult:
    """Train ``tagger`` in place and leave it holding the weights of its best dev-F1 epoch.

    With an empty ``dev`` every epoch runs and the last weights are kept. ``cfg.device`` (when
    set) moves the tagger there first; it stays there, predicting in ``cfg.precision`` (resolved).
    """
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device) if cfg.device is not None else tagger.device
    set_deterministic(device, cfg.deterministic)
    if cfg.device is not None:
        tagger.to(device)
    tagger.precision = resolve_precision(cfg.precision, device)
    seed_everything(cfg.seed)
    with tagger.fitting(cfg, train):
        result = _fit(tagger, train, dev, cfg, progress, Path(log_path) if log_path is not None else None)
    tagger.module.eval()
    return result


def _fit(tagger: TrainableTagger, train: Sequence[Sentence], dev: Sequence[Sentence], cfg: TrainConfig,
         progress: ProgressFn | None, log_path: Path | None) -> FitResult:
    """The epochs of ``fit``, inside the tagger's ``fitting``."""
    rng = np.random.default_rng(cfg.seed)
    module = tagger.module
    optimizer = make_optimizer(tagger.param_groups(cfg.lr), cfg)
    batches = math.ceil(len(train) / cfg.batch_size)
    scheduler = make_scheduler(optimizer, cfg, math.ceil(batches / cfg.accumulate))  # optimiser steps
    stepper = Stepper.for_fit(tagger, optimizer, cfg)
    log = _EpochLogFile(log_path)
    started = time.monotonic()
    deadline = started + cfg.max_seconds if cfg.max_seconds is not None else None
    history: list[EpochLog] = []
    best_f1, best_epoch, best_state, stale = -1.0, 0, None, 0
    epoch = 0
    for epoch in range(1, cfg.epochs + 1):
        epoch_start = time.monotonic()
        loss, seen, out_of_time = _run_epoch(tagger, train, cfg, stepper, rng, deadline, scheduler)
        train_seconds = time.monotonic() - epoch_start
        # Out of time after this epoch: score it now (it is the last) rather than start another.
        out_of_time = out_of_time or (deadline is not None and time.monotonic() >= deadline)
        score = None
        last = epoch == cfg.epochs or out_of_time
        if dev and (epoch % cfg.eval_every == 0 or last):
            score = dev_f1(tagger, dev)
            if score > best_f1:
                best_f1, best_epoch, best_state, stale = score, epoch, _snapshot(module), 0
            elif best_f1 > 0 and epoch > cfg.min_epochs:
                # Patience starts once the model finds any entity (a fresh model on a few hundred
                # sentences scores 0 for its first epochs, which says nothing yet) and only after
                # ``min_epochs``: an early peak must not end a fit that has not settled yet.
                stale += 1
        entry = EpochLog(epoch, loss, score, time.monotonic() - epoch_start, seen / max(train_seconds, 1e-9))
        history.append(entry)
        log.add(entry)
        if progress is not None:
            progress(epoch, cfg.epochs, loss, score)
        if out_of_time or (dev and stale >= cfg.patience):
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    else:  # no dev set: the last epoch is the result and there is no dev score (NaN)
        best_epoch, best_f1 = epoch, float("nan")
    module.eval()
    return FitResult(best_epoch, best_f1, epoch, time.monotonic() - started, history)
