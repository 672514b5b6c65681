"""Uncertainty from a tagger's per-token label probabilities.

Token entropy is H = -sum_l p_l log p_l over the tagger's labels. With the natural log (the
default) it lies in [0, ln L] for L labels: 0 for a one-hot row, ln L for a uniform one. The
default review threshold 2.0 (the reference study's) therefore needs L >= 8 labels to be
reachable (ln 8 = 2.08); with the 9 normalised tags (O + B/I of PER/ORG/LOC/MISC) the maximum
is ln 9 = 2.20. Pass ``base=2`` to measure in bits (max log2 L).

A sentence's score (higher = less sure) is one of (``SCORES``):

- ``max``, ``mean``, ``sum`` of its token entropies (``sum`` favours long sentences: Settles &
  Craven 2008);
- ``mnlp``: minus the mean normalised log-probability of the best path, -log P(best)/length
  (Shen et al. 2017; they pick the lowest MNLP, i.e. the highest score here);
- ``least_confidence``: 1 - P(best path).

The last two need the tagger's ``best_path_log_probs`` (the CRF's Viterbi score - log Z, or the
summed best token log-probabilities of a softmax head).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.models.base import Tagger

How = Literal["max", "mean", "sum", "mnlp", "least_confidence"]
HOWS: tuple[str, ...] = ("max", "mean", "sum")  # from token entropies
PATH_HOWS: tuple[str, ...] = ("mnlp", "least_confidence")  # from the best path's probability
SCORES: tuple[str, ...] = HOWS + PATH_HOWS
DEFAULT_THRESHOLD = 2.0


def token_entropy(probs: np.ndarray, base: float | None = None) -> np.ndarray:
    """Entropy of each row of ``probs`` (shape (tokens, labels)); 0 log 0 counts as 0."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 1:
        p = p[None, :]
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    h = -terms.sum(axis=-1)
    if base is not None:
        if base <= 0 or base == 1:
            raise ConfigError(f"entropy log base must be > 0 and != 1, got {base}")
        h = h / math.log(base)
    # Rounding can give -1e-17 for a one-hot row; entropy is never negative.
    return np.maximum(h, 0.0)


def sentence_score(entropies: np.ndarray | Sequence[float], how: str = "max") -> float:
    """One number per sentence from its token entropies: max, mean or sum (0 when empty)."""
    if how not in HOWS:
        raise ConfigError(f"sentence score must be one of {', '.join(HOWS)}, got {how!r}")
    h = np.asarray(entropies, dtype=np.float64)
    if h.size == 0:
        return 0.0
    return float(h.max() if how == "max" else h.mean() if how == "mean" else h.sum())


def check_score(how: str) -> None:
    """ConfigError unless ``how`` is one of ``SCORES``."""
    if how not in SCORES:
        raise ConfigError(f"sentence score must be one of {', '.join(SCORES)}, got {how!r}")


def path_score(log_prob: float, length: int, how: str) -> float:
    """A sentence's score from log P(best path): ``mnlp`` = -log P / length, ``least_confidence``
    = 1 - P (0 for an empty sentence)."""
    if how not in PATH_HOWS:
        raise ConfigError(f"path score must be one of {', '.join(PATH_HOWS)}, got {how!r}")
    if length == 0:
        return 0.0
    return -log_prob / length if how == "mnlp" else 1.0 - math.exp(log_prob)


def best_path_log_probs(tagger: Tagger, sentences: Sequence[Sentence]) -> list[float]:
    """log P(best path) per sentence, from the tagger's ``best_path_log_probs``."""
    method = getattr(tagger, "best_path_log_probs", None)
    if method is None:
        raise ConfigError(f"{type(tagger).__name__} gives no best-path probabilities (needed by mnlp, "
                          "least_confidence)")
    values = [float(v) for v in method(_inputs(sentences))] if sentences else []
    if len(values) != len(sentences):
        raise ValueError(f"tagger gave best-path probabilities for {len(values)} of {len(sentences)} sentences")
    return values


def _inputs(sentences: Sequence[Sentence]) -> list[tuple[str, ...]]:
    # Only tokens go to the model: selection must never see the (gold) tags of a pool.
    return [s.tokens for s in sentences]


def entropies(tagger: Tagger, sentences: Sequence[Sentence], base: float | None = None) -> list[np.ndarray]:
    """Token entropies for each sentence, from ``tagger.marginals``."""
    if not sentences:
        return []
    margs = tagger.marginals(_inputs(sentences))
    if len(margs) != len(sentences):
        raise ValueError(f"tagger gave marginals for {len(margs)} of {len(sentences)} sentences")
    return [token_entropy(m, base)[: len(s)] if len(s) else np.zeros(0) for m, s in zip(margs, sentences)]


@dataclass(frozen=True)
class Flag:
    """One token whose entropy is above the threshold."""

    sentence: int  # index into the sentences given
    token: int  # index in the sentence
    text: str
    predicted: str
    entropy: float
    key: tuple[str, str, int]  # the sentence's (domain, file, line)


def flag_uncertain(tagger: Tagger, sentences: Sequence[Sentence], threshold: float = DEFAULT_THRESHOLD,
                   base: float | None = None) -> list[Flag]:
    """Tokens with entropy > ``threshold``, in sentence then token order, for people to review."""
    ents = entropies(tagger, sentences, base)
    preds = tagger.predict(_inputs(sentences)) if sentences else []
    flags: list[Flag] = []
    for i, (sent, h, pred) in enumerate(zip(sentences, ents, preds)):
        for j in np.flatnonzero(h > threshold):
            flags.append(Flag(i, int(j), sent.tokens[j], pred[j], float(h[j]), sent.key))
    return flags


def rank_by_uncertainty(scores: Sequence[float], rng: np.random.Generator | None = None) -> list[int]:
    """Indices, highest score first. Ties are broken by ``rng`` (random) or by position."""
    tiebreak = rng.permutation(len(scores)) if rng is not None else np.arange(len(scores))
    # lexsort sorts by the last key first: score descending, then the tiebreak ascending.
    return [int(i) for i in np.lexsort((tiebreak, -np.asarray(scores, dtype=np.float64)))]


def score_sentences(tagger: Tagger, sentences: Sequence[Sentence], how: str = "max",
                    base: float | None = None) -> list[float]:
    """One score per sentence (see the module's docstring), higher = less sure."""
    check_score(how)
    if how in PATH_HOWS:
        logp = best_path_log_probs(tagger, sentences)
        return [path_score(lp, len(s), how) for lp, s in zip(logp, sentences)]
    return [sentence_score(h, how) for h in entropies(tagger, sentences, base)]


def select_uncertain(tagger: Tagger, pool: Sequence[Sentence], budget: int, how: str = "max",
                     rng: np.random.Generator | None = None, base: float | None = None) -> list[Sentence]:
    """The ``budget`` pool sentences the tagger is least sure about, most uncertain first."""
    if budget < 0:
        raise ConfigError(f"budget must be >= 0, got {budget}")
    check_score(how)  # even when nothing is scored
    if budget == 0 or not pool:
        return []
    order = rank_by_uncertainty(score_sentences(tagger, pool, how, base), rng)
    return [pool[i] for i in order[:budget]]
