"""The generic training loop, driven by small fake taggers."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from xner.data.corpus import Sentence
from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig
from xner.training import trainer
from xner.training.trainer import fit

torch.set_num_threads(1)


@dataclass
class WordBatch:
    words: torch.Tensor
    tags: torch.Tensor

    @property
    def size(self) -> int:
        return int(self.words.shape[0])


class WordTagger:
    """Tags each word by a lookup table: learnable in a few epochs, deterministic, tiny."""

    def __init__(self, sentences: Sequence[Sentence]) -> None:
        self.labels = LabelSpace.from_sentences(sentences)
        self.vocab = {w: i + 1 for i, w in enumerate(sorted({w for s in sentences for w in s.tokens}))}
        torch.manual_seed(0)
        self._module = nn.Sequential(nn.Embedding(len(self.vocab) + 1, 8), nn.Dropout(0.2),
                                     nn.Linear(8, len(self.labels)))

    precision = "fp32"

    @property
    def module(self) -> nn.Module:
        return self._module

    @property
    def device(self) -> torch.device:
        return next(self._module.parameters()).device

    def to(self, device: torch.device) -> WordTagger:
        self._module.to(device)
        return self

    @contextmanager
    def fitting(self, cfg: TrainConfig, train: Sequence[Sentence]) -> Iterator[None]:
        self.fitting_with = cfg
        yield

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        return [{"params": list(self._module.parameters())}]

    def batches(self, sentences: Sequence[Sentence], batch_size: int, rng: np.random.Generator,
                train: bool) -> Iterator[WordBatch]:
        order = rng.permutation(len(sentences)) if train else np.arange(len(sentences))
        for start in range(0, len(order), batch_size):
            chunk = [sentences[i] for i in order[start:start + batch_size]]
            words = [self.vocab.get(w, 0) for s in chunk for w in s.tokens]
            tags = [self.labels.id(t) for s in chunk for t in s.tags]
            yield WordBatch(torch.tensor(words), torch.tensor(tags))

    def loss(self, batch: WordBatch, o_weight: float) -> torch.Tensor:
        return nn.functional.cross_entropy(self._module(batch.words), batch.tags)

    def predict(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        self._module.eval()
        with torch.inference_mode():
            out = []
            for s in sentences:
                ids = torch.tensor([self.vocab.get(w, 0) for w in s.tokens])
                out.append(self.labels.decode(self._module(ids).argmax(1).tolist()))
        return out


def _data() -> list[Sentence]:
    rows = [
        (("John", "lives", "in", "Paris"), ("B-per", "O", "O", "B-loc")),
        (("Mary", "Smith", "likes", "Rome"), ("B-per", "I-per", "O", "B-loc")),
        (("IBM", "hired", "John"), ("B-org", "O", "B-per")),
        (("Paris", "is", "big"), ("B-loc", "O", "O")),
    ]
    return [Sentence(t, g) for t, g in rows] * 4


def test_fit_learns_and_logs(tmp_path: Path) -> None:
    data = _data()
    tagger = WordTagger(data)
    calls: list[tuple[int, int, float, float | None]] = []
    log = tmp_path / "log" / "epochs.jsonl"
    cfg = TrainConfig(epochs=15, batch_size=4, lr=0.05, patience=15, seed=3)
    result = fit(tagger, data, data[:4], cfg, progress=lambda *a: calls.append(a), log_path=log)
    assert result.best_dev_f1 == pytest.approx(1.0)
    assert result.epochs_run == len(result.history) == len(calls)
    assert [c[0] for c in calls] == list(range(1, result.epochs_run + 1))
    assert all(c[1] == 15 for c in calls)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == result.epochs_run
    assert set(lines[0]) == {"epoch", "loss", "dev_f1", "seconds", "sentences_per_second"}
    assert lines[0]["loss"] > lines[-1]["loss"]
    assert all(line["sentences_per_second"] > 0 for line in lines)
    assert trainer.dev_f1(tagger, data[:4]) == pytest.approx(result.best_dev_f1)
    assert not tagger.module.training


def test_same_seed_same_weights_different_seed_differs() -> None:
    data = _data()
    states = []
    for seed in (1, 1, 2):
        tagger = WordTagger(data)
        fit(tagger, data, [], TrainConfig(epochs=3, batch_size=3, lr=0.05, seed=seed))
        states.append(tagger.module.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert not all(torch.equal(states[0][k], states[2][k]) for k in states[0])


def test_empty_dev_runs_all_epochs_and_keeps_last() -> None:
    data = _data()
    tagger = WordTagger(data)
    result = fit(tagger, data, [], TrainConfig(epochs=4, batch_size=8, patience=1))
    assert result.epochs_run == 4 and result.best_epoch == 4
    assert math.isnan(result.best_dev_f1)
    assert all(h.dev_f1 is None for h in result.history)


def test_early_stopping_restores_best_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dev F1 peaks at epoch 2; patience 2 stops after epoch 4; epoch-2 weights come back."""
    data = _data()
    tagger = WordTagger(data)
    scores = iter([0.5, 0.9, 0.8, 0.7, 0.95, 0.99])
    weights_at_eval: list[torch.Tensor] = []

    def scripted(tagger_: WordTagger, dev: Sequence[Sentence]) -> float:
        weights_at_eval.append(tagger_.module[0].weight.detach().clone())
        return next(scores)

    monkeypatch.setattr(trainer, "dev_f1", scripted)
    result = fit(tagger, data, data[:2], TrainConfig(epochs=6, batch_size=4, lr=0.05, patience=2))
    assert result.epochs_run == 4
    assert result.best_epoch == 2 and result.best_dev_f1 == pytest.approx(0.9)
    assert torch.equal(tagger.module[0].weight, weights_at_eval[1])
    assert not torch.equal(weights_at_eval[1], weights_at_eval[3])


def test_eval_every_skips_epochs_but_scores_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _data()
    monkeypatch.setattr(trainer, "dev_f1", lambda t, d: 0.5)
    result = fit(WordTagger(data), data, data[:2], TrainConfig(epochs=5, eval_every=2, patience=5))
    assert [h.dev_f1 is not None for h in result.history] == [False, True, False, True, True]


def test_max_seconds_stops_early() -> None:
    data = _data() * 20
    result = fit(WordTagger(data), data, data[:2], TrainConfig(epochs=50, batch_size=1, max_seconds=0.05))
    assert result.epochs_run == 1
    assert result.history[0].dev_f1 is not None


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_optimizers(name: str) -> None:
    data = _data()
    tagger = WordTagger(data)
    before = tagger.module[0].weight.detach().clone()
    fit(tagger, data, [], TrainConfig(epochs=1, optimizer=name, lr=0.01))
    assert not torch.equal(before, tagger.module[0].weight)


def test_threads_are_set() -> None:
    data = _data()
    old = torch.get_num_threads()
    try:
        fit(WordTagger(data), data, [], TrainConfig(epochs=1, threads=1))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(old)


def test_patience_waits_for_the_first_entity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Epochs at 0 dev F1 (a fresh model that predicts only O) do not use up the patience."""
    data = _data()
    scores = iter([0.0, 0.0, 0.0, 0.0, 0.4, 0.3, 0.2, 0.1])
    monkeypatch.setattr(trainer, "dev_f1", lambda t, d: next(scores))
    result = fit(WordTagger(data), data, data[:2], TrainConfig(epochs=8, batch_size=4, patience=2))
    assert result.best_epoch == 5 and result.best_dev_f1 == pytest.approx(0.4)
    assert result.epochs_run == 7


def test_linear_schedule_warms_up_then_decays_to_zero() -> None:
    cfg = TrainConfig(epochs=2, lr=1.0, lr_schedule="linear", warmup=0.25)
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    scheduler = trainer.make_scheduler(optimizer, cfg, steps_per_epoch=4)
    assert scheduler is not None
    rates = []
    for _ in range(8):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[0] < rates[1] < rates[2]  # two warm-up steps
    assert rates[2] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(rates[2:], rates[3:]))
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0)


def test_constant_schedule_has_no_scheduler_and_every_setting_is_dumped() -> None:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    assert trainer.make_scheduler(optimizer, TrainConfig(), steps_per_epoch=3) is None
    # Run ids carry a schema version now, so no setting is left out of the dump to keep old ids.
    assert TrainConfig().model_dump()["lr_schedule"] == "constant" and TrainConfig().model_dump()["warmup"] == 0.1
    linear = TrainConfig(lr_schedule="linear", warmup=0.2)
    assert linear.model_dump()["lr_schedule"] == "linear" and linear.model_dump()["warmup"] == 0.2
    assert TrainConfig(**linear.model_dump(mode="json")) == linear


def test_fit_with_linear_schedule_learns() -> None:
    data = _data()
    tagger = WordTagger(data)
    cfg = TrainConfig(epochs=15, batch_size=4, lr=0.1, patience=15, seed=3, lr_schedule="linear")
    assert fit(tagger, data, data[:4], cfg).best_dev_f1 == pytest.approx(1.0)


def test_the_optimiser_is_built_from_the_taggers_param_groups() -> None:
    data = _data()
    tagger = WordTagger(data)
    frozen = [p.detach().clone() for p in tagger.module.parameters()]
    tagger.param_groups = lambda lr: [{"params": list(tagger.module.parameters()), "lr": 0.0}]  # type: ignore[method-assign]
    cfg = TrainConfig(epochs=2, batch_size=4, lr=0.05)
    fit(tagger, data, [], cfg)
    assert all(torch.equal(a, b) for a, b in zip(frozen, tagger.module.parameters()))  # the group's lr won
    assert tagger.fitting_with == cfg  # the trainer held the tagger's fitting context
