"""``best_path_log_probs`` of both backbones, against their own marginals.

For any path, P(path) <= P(tag at t = path_t) for every t; a one-token sentence's best path is
its best tag, so there the two are equal. The softmax head's tokens are independent, so its best
path's log-probability is exactly the sum of each token's best log-marginal.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from _tiny_models import BERT_VOCAB, TINY_BILSTM, TRAIN, save_tiny_bert

from xner.labels.space import LabelSpace

torch.set_num_threads(1)
SENTENCES = [["Alice", "met", "Bob", "in", "Paris", "."], ["Bob"], [], ["in", "Paris"]]


def _check_crf_tagger(tagger: object) -> None:
    logp = tagger.best_path_log_probs(SENTENCES)  # type: ignore[attr-defined]
    margs = tagger.marginals(SENTENCES)  # type: ignore[attr-defined]
    paths = tagger.predict(SENTENCES)  # type: ignore[attr-defined]
    labels: LabelSpace = tagger.labels  # type: ignore[attr-defined]
    assert len(logp) == len(SENTENCES) and logp[2] == 0.0
    for value, m, path, tokens in zip(logp, margs, paths, SENTENCES):
        assert value <= 1e-9
        if not tokens:
            continue
        ids = [labels.id(t) for t in path]
        # The best path is no likelier than any of its tags.
        assert all(value <= math.log(m[t, i]) + 1e-6 for t, i in enumerate(ids))
        if len(tokens) == 1:
            assert value == pytest.approx(math.log(m[0].max()), abs=1e-5)


def test_bilstm_crf_best_path() -> None:
    from xner.models.bilstm_crf import BiLSTMCRFTagger

    tagger = BiLSTMCRFTagger.create(TRAIN, LabelSpace.from_sentences(TRAIN), TINY_BILSTM, seed=0)
    with torch.no_grad():  # an untrained CRF is all zeros: give the transitions something to do
        tagger.net.crf.transitions.normal_(0, 1, generator=torch.Generator().manual_seed(0))
    _check_crf_tagger(tagger)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("bert"), BERT_VOCAB, hidden=16, layers=1, positions=64)


def _encoder(folder: Path, head: str) -> object:
    from xner.models.encoder import EncoderTagger

    config = {"encoder": str(folder), "max_length": 16, "window_overlap": 4, "casing_dim": 2, "head": head}
    return EncoderTagger.create(TRAIN, LabelSpace.from_sentences(TRAIN), config, seed=0)


def test_encoder_crf_head_best_path(tiny_bert: Path) -> None:
    tagger = _encoder(tiny_bert, "crf")
    with torch.no_grad():
        tagger.net.crf.transitions.normal_(0, 1, generator=torch.Generator().manual_seed(0))  # type: ignore[attr-defined]
    _check_crf_tagger(tagger)


def test_encoder_softmax_head_sums_the_best_token_log_probs(tiny_bert: Path) -> None:
    tagger = _encoder(tiny_bert, "softmax")
    logp = tagger.best_path_log_probs(SENTENCES)  # type: ignore[attr-defined]
    margs = tagger.marginals(SENTENCES)  # type: ignore[attr-defined]
    expected = [float(np.log(m.max(axis=1)).sum()) if len(m) else 0.0 for m in margs]
    assert logp == pytest.approx(expected, abs=1e-5)
