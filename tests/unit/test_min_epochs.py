"""``min_epochs``: early stopping waits that many epochs before patience counts.

The full study's collapsed runs (bench/RESULTS.md): dev F1 peaked near 0.1 at epoch 1-3, dipped
while the model took in a large new label set, and patience 5 ended the fit at epoch 6-8.
"""

from __future__ import annotations

import pytest
import torch
from test_trainer import WordTagger, _data

from xner.models.base import TrainConfig
from xner.run.config import Phase
from xner.training import trainer
from xner.training.trainer import fit

torch.set_num_threads(1)
# A collapse: nothing found at first, an early peak at 0.1, a dip, then the real fit from epoch 9.
CURVE = [0.0, 0.1, 0.05, 0.04, 0.03, 0.02, 0.02, 0.03, 0.3, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]


def _scripted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def dev_f1(tagger: object, dev: object) -> float:
        calls.append(1)
        return CURVE[len(calls) - 1]

    monkeypatch.setattr(trainer, "dev_f1", dev_f1)
    return calls


def test_patience_alone_stops_at_the_early_peak(monkeypatch: pytest.MonkeyPatch) -> None:
    _scripted(monkeypatch)
    data = _data()
    result = fit(WordTagger(data), data, data[:2], TrainConfig(epochs=18, batch_size=4, patience=5))
    assert (result.best_epoch, result.epochs_run) == (2, 7)
    assert result.best_dev_f1 == pytest.approx(0.1)


def test_min_epochs_trains_on_past_the_dip(monkeypatch: pytest.MonkeyPatch) -> None:
    _scripted(monkeypatch)
    data = _data()
    cfg = TrainConfig(epochs=18, batch_size=4, patience=5, min_epochs=10)
    result = fit(WordTagger(data), data, data[:2], cfg)
    assert result.best_epoch == 11 and result.best_dev_f1 == pytest.approx(0.6)
    assert result.epochs_run == 16  # patience counts epochs 12-16 after the best (11 > min_epochs)


def test_patience_counts_from_min_epochs_when_the_peak_is_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a flat curve after epoch 2, the fit runs min_epochs and then patience more epochs."""
    scores = iter([0.0, 0.1] + [0.05] * 30)
    monkeypatch.setattr(trainer, "dev_f1", lambda t, d: next(scores))
    data = _data()
    result = fit(WordTagger(data), data, data[:2], TrainConfig(epochs=30, batch_size=4, patience=5, min_epochs=10))
    assert (result.best_epoch, result.epochs_run) == (2, 15)


def test_min_epochs_above_epochs_just_runs_every_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    _scripted(monkeypatch)
    data = _data()
    result = fit(WordTagger(data), data, data[:2], TrainConfig(epochs=4, batch_size=4, patience=1, min_epochs=10))
    assert result.epochs_run == 4 and result.best_epoch == 2


def test_a_min_epochs_of_one_is_left_out_of_dumps_and_others_are_kept() -> None:
    assert "min_epochs" not in TrainConfig().model_dump()
    assert "min_epochs" not in TrainConfig(min_epochs=1).model_dump()
    assert TrainConfig(min_epochs=10).model_dump()["min_epochs"] == 10
    assert Phase(min_epochs=10).train_config(seed=0, threads=0).min_epochs == 10
    with pytest.raises(ValueError):
        TrainConfig(min_epochs=0)


def test_the_default_enters_the_run_id_and_an_explicit_one_survives_a_written_config() -> None:
    from xner.run.load import run_id, to_toml, validate

    default = validate({"data": {"target": "ai"}})
    one = validate({"data": {"target": "ai"}, "finetune": {"min_epochs": 1}})
    assert default.finetune.min_epochs == 10 and default.pretrain.min_epochs == 1  # the registry's
    assert '"min_epochs":10' in default.canonical() and '"min_epochs"' not in one.canonical()
    assert run_id(default) != run_id(one)
    # A written run.toml spells min_epochs out, so reading it back is the same run (a phase left
    # without it would take the backbone's 10).
    import tomllib

    for cfg in (default, one):
        again = validate(tomllib.loads(to_toml(cfg)))
        assert again == cfg and run_id(again) == run_id(cfg)
    encoder = validate({"data": {"target": "ai"}, "backbone": {"name": "encoder"}})
    assert encoder.finetune.min_epochs == 5
