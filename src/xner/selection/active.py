"""Active learning in rounds, against random selection of the same size.

Each round: train on what is labelled so far -> (evaluate) -> score the unlabelled pool ->
take the ``budget`` most uncertain sentences -> the oracle labels them -> add them. The caller
decides how models are trained (``train_fn``) and scored (``evaluate_fn``), so the study runner
controls backbones, epochs and seeds. The simulated oracle returns the gold labels, which is
what makes benchmarks possible without people; the pool is only ever shown to the model as
tokens (see ``uncertainty.entropies``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.models.base import Tagger
from xner.selection.random_pool import permutation
from xner.selection.uncertainty import check_score, rank_by_uncertainty, score_sentences

TrainFn = Callable[[list[Sentence]], Tagger]
EvaluateFn = Callable[[Tagger], float]
Oracle = Callable[[list[Sentence]], list[Sentence]]
Strategy = Literal["uncertainty", "random"]


def gold_oracle(sentences: list[Sentence]) -> list[Sentence]:
    """The simulated annotator: the pool's own (gold) labels."""
    return list(sentences)


@dataclass
class RoundRecord:
    round: int
    n_train: int  # sentences the model of this round was trained on
    n_added: int  # of which came from the pool
    metric: float | None
    selected: list[tuple[str, str, int]] = field(default_factory=list)  # keys picked after it

    def to_json(self) -> dict[str, object]:
        return {"round": self.round, "n_train": self.n_train, "n_added": self.n_added,
                "metric": self.metric, "selected": [list(k) for k in self.selected]}


@dataclass
class ActiveResult:
    strategy: str
    rounds: list[RoundRecord]
    added: list[Sentence]
    tagger: Tagger | None = None  # the last round's model

    def curve(self) -> tuple[list[int], list[float | None]]:
        """(sentences added, metric) per round, for learning-curve plots."""
        return [r.n_added for r in self.rounds], [r.metric for r in self.rounds]


def _pick(strategy: str, tagger: Tagger | None, remaining: list[Sentence], budget: int, how: str,
          rng: np.random.Generator, order: list[int], base: float | None) -> list[int]:
    """Indices into ``remaining`` to label next."""
    if strategy == "random":
        # Random runs take the next slice of one seeded permutation: the same nesting as
        # nested_sample, so round k's random set is the first k*budget of that order.
        return order[:budget]
    assert tagger is not None  # uncertainty rounds always train first
    ranked = rank_by_uncertainty(score_sentences(tagger, remaining, how, base), rng)
    return ranked[:budget]


def active_learning(train_fn: TrainFn, labelled: Sequence[Sentence], pool: Sequence[Sentence],
                    rounds: int, budget: int, how: str = "max", strategy: Strategy = "uncertainty",
                    evaluate_fn: EvaluateFn | None = None, oracle: Oracle = gold_oracle,
                    seed: int = 0, base: float | None = None) -> ActiveResult:
    """Run ``rounds`` selection rounds; the last model sees everything added.

    Uncertainty sampling trains ``rounds + 1`` models; random selection with no ``evaluate_fn``
    trains only the last one.
    """
    if strategy not in ("uncertainty", "random"):
        raise ConfigError(f"strategy must be 'uncertainty' or 'random', got {strategy!r}")
    if rounds < 0 or budget < 0:
        raise ConfigError(f"rounds and budget must be >= 0, got {rounds} and {budget}")
    check_score(how)  # before any model is trained
    rng = np.random.default_rng(seed)
    remaining = list(pool)
    order = [int(i) for i in permutation(len(remaining), seed)]
    added: list[Sentence] = []
    records: list[RoundRecord] = []
    tagger: Tagger | None = None
    for r in range(rounds + 1):
        # Random selection never looks at the model: with nothing to evaluate, only the last
        # round's model is needed, and the skipped ones would not change what is picked.
        metric: float | None = None
        if strategy == "uncertainty" or evaluate_fn is not None or r == rounds:
            tagger = train_fn(list(labelled) + added)
            if evaluate_fn is not None:
                metric = evaluate_fn(tagger)
        record = RoundRecord(r, len(labelled) + len(added), len(added), metric)
        records.append(record)
        if r == rounds or not remaining:
            continue
        picked = _pick(strategy, tagger, remaining, budget, how, rng, order, base)
        chosen = [remaining[i] for i in picked]
        labelled_now = oracle(chosen)
        if len(labelled_now) != len(chosen):
            raise ValueError(f"oracle returned {len(labelled_now)} sentences for {len(chosen)}")
        added.extend(labelled_now)
        record.selected = [s.key for s in chosen]
        gone = set(picked)
        remaining = [s for i, s in enumerate(remaining) if i not in gone]
        # Keep the random order aligned with the shrunken pool (drop the used prefix).
        order = _reindex([i for i in order if i not in gone], gone)
    return ActiveResult(strategy, records, added, tagger)


def _reindex(order: list[int], gone: set[int]) -> list[int]:
    """Map indices of the old ``remaining`` list to the new one after removing ``gone``."""
    shift = np.cumsum([0] + [1 if i in gone else 0 for i in range(max(order, default=-1) + 1)])
    return [i - int(shift[i]) for i in order]


def compare_with_random(train_fn: TrainFn, labelled: Sequence[Sentence], pool: Sequence[Sentence],
                        rounds: int, budget: int, how: str = "max",
                        evaluate_fn: EvaluateFn | None = None, oracle: Oracle = gold_oracle,
                        seed: int = 0, base: float | None = None) -> dict[str, ActiveResult]:
    """Uncertainty sampling and random selection with the same rounds, budget and seed."""
    return {
        strategy: active_learning(train_fn, labelled, pool, rounds, budget, how, strategy,
                                  evaluate_fn, oracle, seed, base)
        for strategy in ("uncertainty", "random")
    }
