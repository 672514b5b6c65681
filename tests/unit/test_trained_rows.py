"""Training only the word rows a fit can reach is the same fit as training the whole table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
from test_bilstm_tagger import SMALL, toy_data
from torch import nn

from xner.data.corpus import Sentence
from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig
from xner.models.bilstm_crf import BiLSTMCRFTagger
from xner.models.bilstm_net import BiLSTMNet
from xner.models.trained_rows import TrainedRows
from xner.training.trainer import fit

torch.set_num_threads(1)

# Adam with a weight decay of 0 (the BiLSTM-CRF's default): rows without a gradient never move.
CFG = TrainConfig(epochs=8, batch_size=2, lr=0.01, patience=8, unk_replace=0.5, seed=3)


def tagger_and_split() -> tuple[BiLSTMCRFTagger, list[Sentence], list[Sentence]]:
    sentences = toy_data()
    tagger = BiLSTMCRFTagger.create(sentences, LabelSpace.from_sentences(sentences), SMALL, seed=1)
    return tagger, sentences[:5], sentences[5:]  # words of the last three never reach training


def unseen_rows(tagger: BiLSTMCRFTagger, train: list[Sentence], other: list[Sentence]) -> list[int]:
    seen = {tagger.vocab.word_id(tok) for s in train for tok in s.tokens}
    rows = sorted({tagger.vocab.word_id(tok) for s in other for tok in s.tokens} - seen)
    assert rows, "the split must leave words out of training"
    return rows


def test_fit_equals_the_fit_of_the_whole_table(monkeypatch: pytest.MonkeyPatch) -> None:
    tagger, train, dev = tagger_and_split()
    dense, _, _ = tagger_and_split()
    before = tagger.net.words.weight.detach().clone()
    names = [n for n, _ in tagger.net.named_parameters()]
    result = fit(tagger, train, dev + train, CFG)

    @contextmanager
    def whole_table(self: BiLSTMNet, rows: torch.Tensor) -> Iterator[None]:
        yield

    monkeypatch.setattr(BiLSTMNet, "training_rows", whole_table)
    expected = fit(dense, train, dev + train, CFG)

    assert [h.dev_f1 for h in result.history] == pytest.approx([h.dev_f1 for h in expected.history], abs=1e-6)
    assert [h.loss for h in result.history] == pytest.approx([h.loss for h in expected.history], rel=1e-5)
    got, want = tagger.net.state_dict(), dense.net.state_dict()
    assert list(got) == list(want)  # the rows' parameter is gone after the fit
    for name in want:
        assert torch.allclose(got[name], want[name], atol=1e-5), name
    moved = ~torch.isclose(tagger.net.words.weight, before).all(dim=1)
    assert moved.any(), "the trained rows are written back into the table"
    unseen = unseen_rows(tagger, train, dev)
    assert torch.equal(tagger.net.words.weight[unseen], before[unseen])
    assert [n for n, _ in tagger.net.named_parameters()] == names
    assert tagger.net.words.weight.requires_grad and tagger.net.word_rows is None


def test_weight_decay_trains_the_whole_table() -> None:
    tagger, train, dev = tagger_and_split()
    before = tagger.net.words.weight.detach().clone()
    fit(tagger, train, dev, CFG.model_copy(update={"weight_decay": 0.1, "epochs": 2}))
    unseen = unseen_rows(tagger, train, dev)
    assert not torch.equal(tagger.net.words.weight[unseen], before[unseen])  # decay moves every row


def test_rows_read_like_the_table_and_must_start_with_padding() -> None:
    table = nn.Embedding(10, 3, padding_idx=0)
    rows = TrainedRows(table, torch.tensor([0, 2, 5, 7]))
    ids = torch.tensor([[2, 7, 0], [5, 5, 2]])
    assert torch.equal(rows(ids), table(ids))
    with torch.no_grad():
        rows.weight[1] += 1.0  # row 2 of the table
    rows.write_back(table)
    assert torch.equal(table.weight[2], rows.weight[1]) and torch.equal(rows(ids), table(ids))
    assert "position" not in rows.state_dict() and "rows" not in rows.state_dict()
    with pytest.raises(ValueError, match="padding row"):
        TrainedRows(table, torch.tensor([2, 5]))
