"""Reused target fits (``runtime.fit_cache``): a run that loads a cached fit reports exactly what
the same run refitting everything reports, and fits only what it has not seen."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

import xner.transfer.pretrain_finetune as pretrain_finetune
from xner.models.base import EpochLog, FitResult
from xner.run.execute import run
from xner.run.fitcache import FIT_RECORD
from xner.run.load import validate

PHASE = {"epochs": 8, "batch_size": 4, "patience": 8, "min_epochs": 1, "lr": 0.02}
TYPES = {"src": ["person", "location"], "pol": ["politician", "party"], "sci": ["scientist", "field"],
         "mus": ["band", "song"]}


def _write(root: Path) -> None:
    """Four small domains a tiny model learns only in part (ambiguous words, noisy tags), so two
    models fitted on different data disagree on the test set."""
    rng = random.Random(7)
    words = [f"w{i}" for i in range(40)]
    for domain, types in TYPES.items():
        for split, n in (("train", 24), ("dev", 10), ("test", 12)):
            lines = []
            for _ in range(n):
                for _ in range(rng.randint(3, 9)):
                    word = rng.choice(words)
                    kind = int(word[1:]) % 4  # w0, w4, ...: first type; w1, w5, ...: second type
                    tag = f"B-{types[kind]}" if kind < 2 and rng.random() < 0.7 else "O"
                    lines.append(f"{word}\t{tag}")
                lines.append("")
            (root / domain).mkdir(parents=True, exist_ok=True)
            (root / domain / f"{split}.txt").write_text("\n".join(lines), encoding="utf-8")


def _cfg(root: Path, cache: Path | None, added: dict[str, Any] | None = None, **phase: Any) -> Any:
    return validate({"seed": 2, "data": {"root": root / "data", "target": "pol", "source": "src"},
                     "backbone": {"settings": {"word_dim": 8, "char_dim": 4, "char_filters": 4, "hidden": 8}},
                     "pretrain": PHASE, "finetune": {**PHASE, **phase}, "added": added or {},
                     "runtime": {"threads": 1, "cache": root / "pretrained", "fit_cache": cache}})


def _uncertainty(rounds: int) -> dict[str, Any]:
    return {"method": "uncertainty", "setting": float(rounds), "domains": ["sci", "mus"], "pool_splits": ["train"],
            "budget": 5, "score": "mnlp"}


@pytest.fixture()
def fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the fine-tunings actually run (a cache hit runs none)."""
    calls: list[int] = []
    real = pretrain_finetune.finetune

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(pretrain_finetune, "finetune", counted)
    return calls


def _same(a: Any, b: Any) -> None:
    assert a.test == b.test and a.dev == b.dev
    assert (a.n_train, a.n_added, a.n_added_tokens) == (b.n_train, b.n_added, b.n_added_tokens)
    assert a.fit.to_json()["best_epoch"] == b.fit.to_json()["best_epoch"]
    assert a.test_pred == b.test_pred


def test_later_rounds_and_reannotation_load_the_fits_before_them(tmp_path: Path, fits: list[int]) -> None:
    _write(tmp_path / "data")
    cache = tmp_path / "fits"
    baseline = run(_cfg(tmp_path, cache))
    assert len(fits) == 1 and len(list(cache.iterdir())) == 1
    run(_cfg(tmp_path, cache, _uncertainty(1)))  # round 0 is the baseline's fit: only round 1 is new
    assert len(fits) == 2
    cached = run(_cfg(tmp_path, cache, _uncertainty(2)))  # rounds 0 and 1 loaded, round 2 fitted
    assert len(fits) == 3 and len(list(cache.iterdir())) == 3
    fresh = run(_cfg(tmp_path, None, _uncertainty(2)))  # the same run, every round refitted
    assert len(fits) == 6
    _same(cached, fresh)
    again = run(_cfg(tmp_path, cache))  # the baseline itself, loaded: the same numbers, no fit
    assert len(fits) == 6
    _same(again, baseline)
    reannotated = run(_cfg(tmp_path, cache, {"method": "reannotate", "setting": 0.5}))
    assert len(fits) == 7  # its first fit is the baseline's
    _same(reannotated, run(_cfg(tmp_path, None, {"method": "reannotate", "setting": 0.5})))


def test_what_is_never_cached(tmp_path: Path, fits: list[int]) -> None:
    _write(tmp_path / "data")
    cache = tmp_path / "fits"
    twin = {**_uncertainty(2), "method": "uncertainty_random"}
    run(_cfg(tmp_path, cache, twin))  # random selection fits only its last round, kept by no one
    run(_cfg(tmp_path, cache, max_seconds=600.0))  # a time limit makes a fit depend on the clock
    assert not cache.exists() or not list(cache.iterdir())
    run(_cfg(tmp_path, cache))
    assert len(list(cache.iterdir())) == 1


def test_an_unreadable_entry_is_refitted(tmp_path: Path, fits: list[int]) -> None:
    _write(tmp_path / "data")
    cache = tmp_path / "fits"
    first = run(_cfg(tmp_path, cache))
    (entry,) = cache.iterdir()
    (entry / FIT_RECORD).write_text("{not json", encoding="utf-8")
    second = run(_cfg(tmp_path, cache))
    assert len(fits) == 2
    _same(first, second)


def test_fit_record_round_trip_keeps_a_missing_dev_score() -> None:
    fit = FitResult(3, float("nan"), 4, 1.5, [EpochLog(1, 0.5, None, 0.2, 10.0)])
    back = FitResult.from_json(fit.to_json())
    assert math.isnan(back.best_dev_f1) and back.history == fit.history and back.epochs_run == 4
