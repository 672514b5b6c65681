"""Sentence scores for uncertainty sampling: MNLP and least confidence from the CRF's best path,
checked against every path enumerated by hand on tiny CRFs; the entropy scores beside them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.models.crf import CRF
from xner.selection.active import active_learning
from xner.selection.uncertainty import SCORES, path_score, score_sentences, select_uncertain


def _crf(start: list[float], end: list[float], trans: list[list[float]]) -> CRF:
    crf = CRF(len(start)).double()
    with torch.no_grad():
        crf.start.copy_(torch.tensor(start, dtype=torch.float64))
        crf.end.copy_(torch.tensor(end, dtype=torch.float64))
        crf.transitions.copy_(torch.tensor(trans, dtype=torch.float64))
    return crf.requires_grad_(False)


def _path_scores(crf: CRF, emissions: list[list[float]]) -> dict[tuple[int, ...], float]:
    """The unnormalised score of every tag path, written out term by term."""
    s, e, t = crf.start.tolist(), crf.end.tolist(), crf.transitions.tolist()
    out = {}
    for path in itertools.product(range(crf.num_tags), repeat=len(emissions)):
        score = s[path[0]] + e[path[-1]] + sum(emissions[i][y] for i, y in enumerate(path))
        score += sum(t[a][b] for a, b in zip(path, path[1:]))
        out[path] = score
    return out


# Two tags (O, X), two tokens.
CRF2 = ([0.5, -0.2], [0.0, 0.3], [[0.4, -1.0], [0.2, 0.7]])
EMIT2 = [[1.0, 0.2], [-0.3, 0.9]]


def test_two_tags_two_tokens_by_hand() -> None:
    crf = _crf(*CRF2)
    # The four paths by hand: start + emissions + transition + end.
    by_hand = {(0, 0): 0.5 + 1.0 + 0.4 - 0.3 + 0.0, (0, 1): 0.5 + 1.0 - 1.0 + 0.9 + 0.3,
               (1, 0): -0.2 + 0.2 + 0.2 - 0.3 + 0.0, (1, 1): -0.2 + 0.2 + 0.7 + 0.9 + 0.3}
    assert _path_scores(crf, EMIT2) == pytest.approx(by_hand)
    z = sum(math.exp(v) for v in by_hand.values())
    best = max(by_hand.values())  # (1, 1): 1.9, against 1.6, 1.7 and -0.1
    assert best == pytest.approx(1.9) and max(by_hand, key=lambda k: by_hand[k]) == (1, 1)
    emissions = torch.tensor([EMIT2], dtype=torch.float64)
    mask = torch.ones(1, 2, dtype=torch.bool)
    logp = float(crf.best_path_log_prob(emissions, mask)[0])
    assert logp == pytest.approx(best - math.log(z), abs=1e-12)
    p_best = math.exp(best) / z
    assert path_score(logp, 2, "least_confidence") == pytest.approx(1 - p_best)
    assert path_score(logp, 2, "mnlp") == pytest.approx(-math.log(p_best) / 2)
    assert crf.decode(emissions, mask) == [[1, 1]]


def test_three_tags_three_tokens_in_a_padded_batch() -> None:
    """A 3-token and a 2-token sentence in one batch: padding changes neither."""
    crf = _crf([0.1, -0.5, 0.3], [0.2, 0.0, -0.4],
               [[0.3, -0.2, 0.1], [-1.0, 0.6, 0.0], [0.2, 0.1, -0.3]])
    long = [[0.2, 1.1, -0.4], [0.0, 0.3, 0.8], [1.2, -0.1, 0.4]]
    short = [[0.9, 0.1, 0.0], [-0.2, 0.4, 0.3]]
    emissions = torch.tensor([long, short + [[5.0, -5.0, 5.0]]], dtype=torch.float64)
    mask = torch.tensor([[True, True, True], [True, True, False]])
    got = crf.best_path_log_prob(emissions, mask).tolist()
    for value, emit in zip(got, (long, short)):
        scores = _path_scores(crf, emit)
        assert len(scores) == 3 ** len(emit)
        z = sum(math.exp(v) for v in scores.values())
        assert value == pytest.approx(math.log(max(math.exp(v) for v in scores.values()) / z), abs=1e-12)
        assert value < 0


def test_a_certain_crf_gives_probability_one() -> None:
    crf = _crf([0.0, 0.0], [0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]])
    emissions = torch.tensor([[[50.0, -50.0], [-50.0, 50.0]]], dtype=torch.float64)
    logp = float(crf.best_path_log_prob(emissions, torch.ones(1, 2, dtype=torch.bool))[0])
    assert logp == pytest.approx(0.0, abs=1e-12) and logp <= 0
    assert path_score(logp, 2, "least_confidence") == pytest.approx(0.0, abs=1e-12)


class PathTagger:
    """A fake tagger: a tiny CRF over fixed per-word emissions."""

    def __init__(self) -> None:
        self.labels = LabelSpace(["O", "B-X"])
        self.crf = _crf(*CRF2)
        self.emit = {"a": [1.0, 0.2], "b": [-0.3, 0.9], "c": [0.0, 0.0]}

    def _emissions(self, tokens: Sequence[str]) -> torch.Tensor:
        return torch.tensor([[self.emit[w] for w in tokens]], dtype=torch.float64)

    def best_path_log_probs(self, sentences: Sequence[Sequence[str]]) -> list[float]:
        out = []
        for tokens in sentences:
            mask = torch.ones(1, len(tokens), dtype=torch.bool)
            out.append(float(self.crf.best_path_log_prob(self._emissions(tokens), mask)[0]) if tokens else 0.0)
        return out

    def marginals(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        return [self.crf.marginals(self._emissions(t), torch.ones(1, len(t), dtype=torch.bool))[0].numpy()
                if t else np.zeros((0, 2)) for t in sentences]

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [["O"] * len(t) for t in sentences]

    def save(self, directory: Path) -> None: ...

    def write_state(self, folder: Path) -> None: ...

    def adapt(self, *args: object) -> None: ...


def _sent(*tokens: str) -> Sentence:
    return Sentence(tokens, ("O",) * len(tokens))


def test_scores_of_sentences_through_the_tagger() -> None:
    tagger = PathTagger()
    sents = [_sent("a", "b"), _sent("c"), _sent()]
    scores = _path_scores(tagger.crf, EMIT2)
    p_best = max(math.exp(v) for v in scores.values()) / sum(math.exp(v) for v in scores.values())
    # One token with zero emissions: P(best) = exp(max(start+end)) / sum exp(start+end).
    one = [0.5 + 0.0, -0.2 + 0.3]
    p_one = math.exp(max(one)) / sum(math.exp(v) for v in one)
    mnlp = score_sentences(tagger, sents, "mnlp")  # type: ignore[arg-type]
    assert mnlp == pytest.approx([-math.log(p_best) / 2, -math.log(p_one), 0.0])
    lc = score_sentences(tagger, sents, "least_confidence")  # type: ignore[arg-type]
    assert lc == pytest.approx([1 - p_best, 1 - p_one, 0.0])
    # The entropy scores are still there, from the marginals.
    assert score_sentences(tagger, sents, "sum")[2] == 0.0  # type: ignore[arg-type]


def test_mnlp_does_not_favour_long_sentences_as_sum_does() -> None:
    """Ten copies of the same uncertain token: summed entropy grows tenfold, MNLP barely moves."""
    tagger = PathTagger()
    short, long = _sent("c"), _sent(*["c"] * 10)
    s_sum = score_sentences(tagger, [short, long], "sum")  # type: ignore[arg-type]
    s_mnlp = score_sentences(tagger, [short, long], "mnlp")  # type: ignore[arg-type]
    assert s_sum[1] > 5 * s_sum[0]
    assert s_mnlp[1] < 2 * s_mnlp[0]


def test_select_and_active_learning_accept_the_new_scores_and_refuse_unknown_ones() -> None:
    tagger = PathTagger()
    pool = [_sent("a"), _sent("c"), _sent("b", "c")]
    for how in SCORES:
        assert len(select_uncertain(tagger, pool, 2, how)) == 2  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="mnlp"):
        select_uncertain(tagger, pool, 1, "median")  # type: ignore[arg-type]

    def train_fn(sentences: list[Sentence]) -> PathTagger:
        raise AssertionError("a bad score must fail before any training")

    with pytest.raises(ConfigError, match="least_confidence"):
        active_learning(train_fn, [], pool, 1, 1, how="entropy")  # type: ignore[arg-type]


def test_a_tagger_without_best_paths_is_a_config_error() -> None:
    class NoPaths(PathTagger):
        best_path_log_probs = None  # type: ignore[assignment]

    with pytest.raises(ConfigError, match="best-path"):
        score_sentences(NoPaths(), [_sent("a")], "mnlp")  # type: ignore[arg-type]
