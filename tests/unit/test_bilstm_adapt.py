"""Growing a trained BiLSTM-CRF for a target domain keeps what it learnt."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_bilstm_tagger import make_tagger

from xner.data.corpus import Sentence
from xner.errors import ModelError
from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig
from xner.training.trainer import fit

torch.set_num_threads(1)

TARGET = [
    Sentence(tuple("Tolkien wrote The Hobbit in Oxford".split()),
             ("B-writer", "O", "B-book", "I-book", "O", "B-loc")),
    Sentence(tuple("Ωmega prize for John".split()), ("B-award", "I-award", "O", "B-per")),
]


def _trained():
    tagger, data = make_tagger(seed=3)
    fit(tagger, data, [], TrainConfig(epochs=3, batch_size=4, lr=0.02))
    return tagger, data


def _grown_labels(tagger) -> LabelSpace:
    labels = tagger.labels.copy()
    labels.extend(LabelSpace.from_sentences(TARGET))
    return labels


def test_adapt_keeps_old_rows_bit_identical() -> None:
    tagger, data = _trained()
    before = {k: v.clone() for k, v in tagger.net.state_dict().items()}
    old_words, old_chars, old_labels = len(tagger.vocab.words), len(tagger.vocab.chars), len(tagger.labels)
    labels = _grown_labels(tagger)
    tagger.adapt(TARGET, labels)
    after = tagger.net.state_dict()
    assert tagger.labels.tags == labels.tags and len(labels) > old_labels
    assert len(tagger.vocab.words) > old_words and len(tagger.vocab.chars) > old_chars
    assert after["words.weight"].shape[0] == len(tagger.vocab.words)
    assert torch.equal(after["words.weight"][:old_words], before["words.weight"])
    assert torch.equal(after["chars.weight"][:old_chars], before["chars.weight"])
    assert torch.equal(after["out.weight"][:old_labels], before["out.weight"])
    assert torch.equal(after["out.bias"][:old_labels], before["out.bias"])
    assert torch.equal(after["crf.transitions"][:old_labels, :old_labels], before["crf.transitions"])
    assert torch.equal(after["crf.start"][:old_labels], before["crf.start"])
    assert torch.equal(after["crf.end"][:old_labels], before["crf.end"])
    for name in before:  # everything that is not per-word/char/label is untouched
        if not name.startswith(("words.", "chars.", "out.", "crf.")):
            assert torch.equal(after[name], before[name]), name
    # New rows are fresh: random (not zero, not copies) for words and emissions.
    assert torch.all(after["words.weight"][old_words:].abs().sum(1) > 0)
    assert torch.all(after["out.weight"][old_labels:].abs().sum(1) > 0)


def test_predictions_on_old_words_and_labels_unchanged() -> None:
    """On old words the old-label emissions and marginals restricted to old labels are unchanged:
    the old model lives on inside the grown one (new labels add fresh competing rows)."""
    tagger, data = _trained()
    old_labels = len(tagger.labels)
    before_pred = tagger.predict(data)
    rng = np.random.default_rng(0)
    batch = next(iter(tagger.batches(data, 100, rng, train=False)))
    with torch.inference_mode():
        before_em = tagger.net.eval().emissions(batch)
        before_path = tagger.net.crf.decode(before_em, batch.mask)
    tagger.adapt(TARGET, _grown_labels(tagger))
    with torch.inference_mode():
        after_em = tagger.net.eval().emissions(batch)
        # Viterbi over the old label columns with the grown CRF's old block.
        old_block = tagger.net.crf.transitions[:old_labels, :old_labels]
        from xner.models.crf import CRF

        sub = CRF(old_labels)
        sub.transitions.data = old_block.clone()
        sub.start.data = tagger.net.crf.start[:old_labels].clone()
        sub.end.data = tagger.net.crf.end[:old_labels].clone()
        after_path = sub.decode(after_em[:, :, :old_labels], batch.mask)
    # Weights are bit-identical; a wider output matmul may round differently in the last bit.
    assert torch.allclose(after_em[:, :, :old_labels], before_em, rtol=0, atol=1e-5)
    assert after_path == before_path
    decoded = [None] * len(data)
    for i, path in zip(batch.order, after_path):
        decoded[i] = tagger.labels.decode(path)
    assert decoded == before_pred


def test_adapt_is_seeded() -> None:
    grown = []
    for _ in range(2):
        tagger, _ = _trained()
        tagger.adapt(TARGET, _grown_labels(tagger))
        grown.append(tagger.net.state_dict())
    assert all(torch.equal(grown[0][k], grown[1][k]) for k in grown[0])


def test_adapt_then_fine_tune_learns_new_labels() -> None:
    tagger, data = _trained()
    tagger.adapt(TARGET, _grown_labels(tagger))
    fit(tagger, TARGET, TARGET, TrainConfig(epochs=60, batch_size=2, lr=0.03, patience=60, unk_replace=0))
    assert tagger.predict(TARGET) == [list(s.tags) for s in TARGET]


def test_labels_must_extend_the_old_ones() -> None:
    tagger, _ = _trained()
    shuffled = LabelSpace(["O"] + list(reversed(tagger.labels.tags[1:])))
    with pytest.raises(ModelError):
        tagger.adapt(TARGET, shuffled)
    with pytest.raises(ModelError):
        tagger.adapt(TARGET, LabelSpace.from_types(["writer"]))


def test_adapt_with_same_labels_only_grows_vocab() -> None:
    tagger, data = _trained()
    before = tagger.net.out.weight.clone()
    tagger.adapt(TARGET, tagger.labels.copy())
    assert torch.equal(tagger.net.out.weight, before)
    assert tagger.net.crf.num_tags == len(tagger.labels)


def test_adapt_with_origins_copies_the_origin_rows() -> None:
    tagger, _ = _trained()
    labels = _grown_labels(tagger)
    origin = tagger.labels.tags.index(next(t for t in tagger.labels.tags if t != "O"))
    new = labels.id("B-writer")
    tagger.adapt(TARGET, labels, {new: origin})
    out = tagger.net.out
    assert torch.equal(out.weight[new], out.weight[origin]) and out.bias[new] == out.bias[origin]
    assert tagger.net.crf.end[new] == tagger.net.crf.end[origin]
