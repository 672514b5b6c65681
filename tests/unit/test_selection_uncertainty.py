"""Entropy on hand-made distributions, sentence scores, flags and selection order."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.selection.uncertainty import (
    flag_uncertain,
    rank_by_uncertainty,
    select_uncertain,
    sentence_score,
    token_entropy,
)


class FakeTagger:
    """Marginals chosen per first token; predict = argmax. Records what it was shown."""

    def __init__(self, table: dict[str, np.ndarray], labels: list[str]) -> None:
        self.table = table
        self.labels = LabelSpace(labels)
        self.seen: list[object] = []

    def marginals(self, sentences):  # noqa: ANN001, ANN201
        self.seen.extend(sentences)
        return [self.table[s[0]] for s in sentences]

    def predict(self, sentences):  # noqa: ANN001, ANN201
        return [[self.labels.tags[i] for i in self.table[s[0]].argmax(1)] for s in sentences]


LABELS = ["O", "B-a", "I-a", "B-b"]
UNIFORM = np.full(4, 0.25)
ONE_HOT = np.array([1.0, 0, 0, 0])
HALF = np.array([0.5, 0.5, 0, 0])


def test_entropy_hand_made() -> None:
    h = token_entropy(np.stack([UNIFORM, ONE_HOT, HALF]))
    assert h == pytest.approx([math.log(4), 0.0, math.log(2)])
    assert token_entropy(np.full((1, 9), 1 / 9))[0] == pytest.approx(math.log(9))
    assert token_entropy(np.stack([UNIFORM, HALF]), base=2) == pytest.approx([2.0, 1.0])
    p = np.array([0.7, 0.2, 0.1])
    assert token_entropy(p)[0] == pytest.approx(-(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1)))
    assert token_entropy(np.array([[1.0 + 1e-12, -1e-12, 0.0]]))[0] == 0.0
    with pytest.raises(ConfigError):
        token_entropy(UNIFORM, base=1)


def test_entropy_max_is_ln_l() -> None:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(6), size=200)
    h = token_entropy(p)
    assert np.all(h >= 0) and np.all(h <= math.log(6) + 1e-12)


def test_sentence_scores() -> None:
    h = [0.5, 2.5, 1.0]
    assert sentence_score(h, "max") == 2.5
    assert sentence_score(h, "mean") == pytest.approx(4 / 3)
    assert sentence_score(h, "sum") == 4.0
    assert sentence_score([], "max") == 0.0
    with pytest.raises(ConfigError, match="max, mean, sum"):
        sentence_score(h, "median")


def _sentence(first: str, n: int, line: int) -> Sentence:
    tokens = (first,) + tuple(f"t{i}" for i in range(1, n))
    return Sentence(tokens, ("B-a",) * 1 + ("I-a",) * (n - 1), "ai", "train.txt", line)


def test_flag_uncertain_threshold_and_positions() -> None:
    nine = ["O"] + [f"{p}-{t}" for t in "abcd" for p in "BI"]
    uniform9 = np.full(9, 1 / 9)
    sure = np.eye(9)[0]
    table = {"x": np.stack([uniform9, sure, uniform9]), "y": np.stack([sure, sure])}
    tagger = FakeTagger(table, nine)
    sents = [_sentence("x", 3, 1), _sentence("y", 2, 5)]
    flags = flag_uncertain(tagger, sents, threshold=2.0)
    assert [(f.sentence, f.token) for f in flags] == [(0, 0), (0, 2)]
    assert flags[0].entropy == pytest.approx(math.log(9)) and flags[1].text == "t2"
    assert flags[0].key == ("ai", "train.txt", 1)
    assert flag_uncertain(tagger, sents, threshold=2.2) == []  # ln 9 = 2.197
    # The tagger was only ever shown tokens, never the gold tags.
    assert all(isinstance(s, tuple) and not isinstance(s, Sentence) for s in tagger.seen)


def test_select_uncertain_order_and_how() -> None:
    table = {
        "a": np.stack([UNIFORM, ONE_HOT, ONE_HOT]),  # max ln4, sum ln4
        "b": np.stack([HALF, HALF, HALF]),  # max ln2, sum 3 ln2 (> ln4)
        "c": np.stack([ONE_HOT]),  # 0
        "d": np.stack([HALF, ONE_HOT]),  # max ln2, sum ln2
    }
    tagger = FakeTagger(table, LABELS)
    pool = [_sentence(k, len(v), i) for i, (k, v) in enumerate(table.items())]
    firsts = lambda ss: [s.tokens[0] for s in ss]  # noqa: E731
    assert firsts(select_uncertain(tagger, pool, 2, "max")) == ["a", "b"]
    assert firsts(select_uncertain(tagger, pool, 4, "sum")) == ["b", "a", "d", "c"]
    assert firsts(select_uncertain(tagger, pool, 2, "mean")) == ["b", "a"]
    assert select_uncertain(tagger, pool, 0) == []
    assert len(select_uncertain(tagger, pool, 10)) == 4
    with pytest.raises(ConfigError):
        select_uncertain(tagger, pool, -1)


def test_rank_ties() -> None:
    assert rank_by_uncertainty([1.0, 3.0, 1.0, 3.0]) == [1, 3, 0, 2]
    orders = {tuple(rank_by_uncertainty([1.0, 1.0, 1.0, 5.0], np.random.default_rng(s))) for s in range(20)}
    assert all(o[0] == 3 for o in orders) and len(orders) > 1
