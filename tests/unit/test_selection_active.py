"""Active-learning rounds with a fake train_fn, against random selection of the same size."""

from __future__ import annotations

import numpy as np
import pytest

from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.selection.active import active_learning, compare_with_random
from xner.selection.random_pool import nested_sample

LABELS = LabelSpace(["O", "B-a", "I-a"])


class WordTagger:
    """Certain about words it was trained on, uniform about the rest."""

    labels = LABELS

    def __init__(self, known: set[str]) -> None:
        self.known = known

    def marginals(self, sentences):  # noqa: ANN001, ANN201
        return [np.stack([np.eye(3)[0] if t in self.known else np.full(3, 1 / 3) for t in s])
                for s in sentences]

    def predict(self, sentences):  # noqa: ANN001, ANN201
        return [["O"] * len(s) for s in sentences]


def _sent(words: str, line: int) -> Sentence:
    tokens = tuple(words.split())
    return Sentence(tokens, ("B-a",) + ("O",) * (len(tokens) - 1), "music", "train.txt", line)


def _setup() -> tuple[list[Sentence], list[Sentence], list[list[Sentence]]]:
    labelled = [_sent("a b c", 1)]
    # Unknown-word count decides uncertainty (sum): p4 (4 new) > p2 (3) > p0 (2) > others.
    pool = [_sent("a x y", 10), _sent("a b c", 20), _sent("q r s", 30), _sent("b c", 40),
            _sent("m n o p", 50), _sent("a z", 60)]
    calls: list[list[Sentence]] = []
    return labelled, pool, calls


def _train_fn(calls: list[list[Sentence]]):  # noqa: ANN202
    def train(sentences: list[Sentence]) -> WordTagger:
        calls.append(list(sentences))
        return WordTagger({t for s in sentences for t in s.tokens})
    return train


def test_uncertainty_rounds_pick_most_uncertain_and_retrain() -> None:
    labelled, pool, calls = _setup()
    metric = lambda tagger: float(len(tagger.known))  # noqa: E731
    result = active_learning(_train_fn(calls), labelled, pool, rounds=2, budget=2, how="sum",
                             evaluate_fn=metric)
    assert len(calls) == 3 and [len(c) for c in calls] == [1, 3, 5]
    assert [s.line for s in result.added] == [50, 30, 10, 60]
    # Round 0 knows {a,b,c}: unknown counts p10=2, p30=3, p50=4, p60=1 -> picks 50, 30.
    assert result.rounds[0].selected == [("music", "train.txt", 50), ("music", "train.txt", 30)]
    # Round 1 also knows m n o p q r s: p10 (x y) = 2, p60 (z) = 1 -> picks 10, 60.
    assert result.rounds[1].selected == [("music", "train.txt", 10), ("music", "train.txt", 60)]
    assert result.rounds[2].selected == []
    assert [r.n_added for r in result.rounds] == [0, 2, 4]
    assert result.curve() == ([0, 2, 4], [3.0, 10.0, 13.0])
    # The oracle gave gold labels: the added sentences are the pool's own.
    assert all(s in pool for s in result.added)


def test_random_baseline_is_nested_and_same_size() -> None:
    labelled, pool, calls = _setup()
    both = compare_with_random(_train_fn(calls), labelled, pool, rounds=3, budget=2, seed=5)
    rnd, unc = both["random"], both["uncertainty"]
    assert [r.n_added for r in rnd.rounds] == [r.n_added for r in unc.rounds] == [0, 2, 4, 6]
    assert rnd.added == nested_sample(pool, 100, seed=5)
    assert len(set(rnd.added)) == 6


def test_custom_oracle_labels_are_used() -> None:
    labelled, pool, calls = _setup()
    relabel = lambda ss: [s.with_tags(["O"] * len(s)) for s in ss]  # noqa: E731
    result = active_learning(_train_fn(calls), labelled, pool, rounds=1, budget=1, oracle=relabel)
    assert all(set(s.tags) == {"O"} for s in result.added)
    assert calls[-1][-1].tags == ("O",) * len(calls[-1][-1])


def test_stops_when_pool_is_empty_and_validates() -> None:
    labelled, pool, calls = _setup()
    result = active_learning(_train_fn(calls), labelled, pool[:3], rounds=4, budget=2)
    assert [r.n_added for r in result.rounds] == [0, 2, 3, 3, 3]
    with pytest.raises(ConfigError):
        active_learning(_train_fn(calls), labelled, pool, rounds=1, budget=1, strategy="greedy")  # type: ignore[arg-type]


def test_random_selection_without_evaluation_trains_only_the_last_model() -> None:
    labelled, pool, calls = _setup()
    result = active_learning(_train_fn(calls), labelled, pool, rounds=3, budget=2, strategy="random", seed=5)
    assert [len(c) for c in calls] == [7]  # only the final model, on everything added
    assert result.added == nested_sample(pool, 100, seed=5)
    assert result.tagger is not None and result.tagger.known == {t for s in calls[0] for t in s.tokens}
    calls.clear()
    metric = lambda tagger: 0.0  # noqa: E731
    active_learning(_train_fn(calls), labelled, pool, rounds=3, budget=2, strategy="random", seed=5,
                    evaluate_fn=metric)
    assert [len(c) for c in calls] == [1, 3, 5, 7]  # a curve needs every round's model
