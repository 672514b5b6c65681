"""Summary statistics: per-sentence counts reproduce seqeval's F1; the paired bootstrap behaves."""

from __future__ import annotations

import numpy as np
import pytest
from seqeval.metrics import f1_score

from xner.study.summary import f1_from_counts, paired_bootstrap, sentence_counts

TAGS = ("O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG")


def _random_tags(rng: np.random.Generator, n: int) -> list[list[str]]:
    return [[TAGS[i] for i in rng.integers(0, len(TAGS), int(rng.integers(1, 12)))] for _ in range(n)]


def _noisy(gold: list[list[str]], rate: float, rng: np.random.Generator) -> list[list[str]]:
    return [[TAGS[int(rng.integers(len(TAGS)))] if rng.random() < rate else t for t in s] for s in gold]


def test_counts_reproduce_seqeval_f1_on_any_subset() -> None:
    rng = np.random.default_rng(3)
    gold = _random_tags(rng, 60)
    pred = _noisy(gold, 0.3, rng)
    counts = sentence_counts(gold, pred)
    assert abs(float(f1_from_counts(counts)) - f1_score(gold, pred)) < 1e-12
    idx = rng.integers(0, 60, 60)  # a bootstrap resample, repeats included
    resampled = f1_score([gold[i] for i in idx], [pred[i] for i in idx])
    assert abs(float(f1_from_counts(counts[idx])) - resampled) < 1e-12


def test_bootstrap_p_values() -> None:
    rng = np.random.default_rng(5)
    gold = _random_tags(rng, 200)
    good, bad = _noisy(gold, 0.05, rng), _noisy(gold, 0.5, rng)
    c_good, c_bad = sentence_counts(gold, good), sentence_counts(gold, bad)
    # A much better system: tiny p. The same system against itself: p = 1.
    assert paired_bootstrap([c_good], [c_bad], samples=500) < 0.01
    assert paired_bootstrap([c_good], [c_good], samples=500) == 1.0
    # Two systems differing by noise only: no significance, and the value is reproducible.
    other = sentence_counts(gold, _noisy(gold, 0.05, rng))
    p = paired_bootstrap([c_good, c_good], [other, other], samples=500)
    assert p > 0.05 and p == paired_bootstrap([c_good, c_good], [other, other], samples=500)


def test_bootstrap_counts_the_spans_the_metrics_count() -> None:
    from xner.evaluation.metrics import entity_scores

    gold = [["B-A", "I-A", "O", "B-B"], ["O", "I-A", "I-A"], ["B-C"]]
    pred = [["B-A", "I-A", "O", "I-B"], ["B-A", "I-A", "O"], ["O"]]
    totals = sentence_counts(gold, pred).sum(axis=0)
    scores = entity_scores(gold, pred)
    assert tuple(totals) == (scores.n_correct, scores.n_pred, scores.n_gold) == (2, 3, 4)
    assert f1_from_counts(sentence_counts(gold, pred)) == pytest.approx(scores.f1)
