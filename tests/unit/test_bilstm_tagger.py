"""The BiLSTM-CRF tagger: learning, inference contract, determinism, loss options."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xner.data.corpus import Sentence
from xner.labels.space import LabelSpace
from xner.models.base import Tagger, TrainConfig
from xner.models.bilstm_crf import BiLSTMConfig, BiLSTMCRFTagger
from xner.models.vocab import UNK_ID
from xner.training.trainer import fit

torch.set_num_threads(1)

SMALL = BiLSTMConfig(word_dim=16, casing_dim=4, char_dim=8, char_filters=8, hidden=16, dropout=0.1)


def toy_data() -> list[Sentence]:
    rows = [
        ("John lives in Paris .", "B-per O O B-loc O"),
        ("Mary Smith works for IBM", "B-per I-per O O B-org"),
        ("IBM hired John", "B-org O B-per"),
        ("Paris is big", "B-loc O O"),
        ("He visited Rome and Paris", "O O B-loc O B-loc"),
        ("Acme Corp bought Globex", "B-org I-org O B-org"),
        ("Smith met Mary in Rome", "B-per O B-per O B-loc"),
        ("It rained", "O O"),
    ]
    return [Sentence(tuple(t.split()), tuple(g.split()), domain="toy", line=i) for i, (t, g) in enumerate(rows)]


def make_tagger(seed: int = 0, config: BiLSTMConfig = SMALL) -> tuple[BiLSTMCRFTagger, list[Sentence]]:
    data = toy_data()
    return BiLSTMCRFTagger.create(data, LabelSpace.from_sentences(data), config, seed=seed), data


def test_is_a_tagger_and_learns_toy_data() -> None:
    tagger, data = make_tagger()
    assert isinstance(tagger, Tagger)
    result = fit(tagger, data, data, TrainConfig(epochs=60, batch_size=4, lr=0.02, patience=60, unk_replace=0))
    assert result.best_dev_f1 == pytest.approx(1.0)
    assert tagger.predict(data) == [list(s.tags) for s in data]


def test_predict_order_inputs_and_empty_sentences() -> None:
    tagger, data = make_tagger()
    mixed = [data[0], [], list(data[2].tokens), ("a",), data[1]]
    out = tagger.predict(mixed)
    assert [len(p) for p in out] == [5, 0, 3, 1, 5]
    assert out[0] == tagger.predict([data[0]])[0]
    assert out[4] == tagger.predict([data[1]])[0]
    assert all(tag in tagger.labels for p in out for tag in p)


def test_batch_composition_does_not_change_results() -> None:
    """Sentences padded beside longer ones get the same tags and marginals as alone."""
    tagger, data = make_tagger(config=SMALL.model_copy(update={"infer_batch": 3}))
    together = tagger.marginals(data)
    for sentence, probs in zip(data, together):
        alone = tagger.marginals([sentence])[0]
        np.testing.assert_allclose(probs, alone, atol=1e-5)
    assert tagger.predict(data) == [tagger.predict([s])[0] for s in data]


def test_marginals_are_distributions() -> None:
    tagger, data = make_tagger()
    marg = tagger.marginals(data + [Sentence((), ())])
    assert len(marg) == len(data) + 1
    for sentence, probs in zip(data, marg):
        assert probs.shape == (len(sentence), len(tagger.labels))
        np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
        assert np.all(probs >= 0)
    assert marg[-1].shape == (0, len(tagger.labels))


def test_training_and_inference_paths_give_same_emissions() -> None:
    """The two one-way LSTMs (training) and the packed BiLSTM (inference) compute the same thing."""
    tagger, data = make_tagger(config=SMALL.model_copy(update={"dropout": 0.0, "layers": 2}))
    batch = next(iter(tagger.batches(data, 8, np.random.default_rng(0), train=False)))
    net = tagger.net
    with torch.no_grad():
        net.train()
        two_way = net.emissions(batch)
        net.eval()
        packed = net.emissions(batch)
    mask = batch.mask.unsqueeze(2)
    assert torch.allclose(two_way * mask, packed * mask, atol=1e-5)


def test_same_seed_same_model_on_cpu() -> None:
    cfg = TrainConfig(epochs=3, batch_size=3, lr=0.01, seed=5)
    runs = []
    for _ in range(2):
        tagger, data = make_tagger(seed=1)
        fit(tagger, data, data[:3], cfg)
        runs.append((tagger.net.state_dict(), tagger.marginals(data)))
    (sd1, m1), (sd2, m2) = runs
    assert all(torch.equal(sd1[k], sd2[k]) for k in sd1)
    assert all(np.array_equal(a, b) for a, b in zip(m1, m2))
    other, data = make_tagger(seed=2)
    assert not torch.equal(other.net.out.weight, sd1["out.weight"])


def test_o_weight_one_is_the_plain_crf_loss() -> None:
    tagger, data = make_tagger()
    batch = next(iter(tagger.batches(data, 8, np.random.default_rng(0), train=False)))
    net = tagger.net.eval()
    with torch.no_grad():
        plain = net.crf.nll(net.emissions(batch), batch.tags, batch.mask).mean()
        assert torch.equal(net.loss(batch, 1.0), plain)
        # Down-weighting O makes missing entities dearer: the bound grows.
        assert net.loss(batch, 0.5) > plain
        assert net.loss(batch, 0.1) > net.loss(batch, 0.5)


def test_o_weight_has_no_effect_on_all_o_sentences() -> None:
    tagger, data = make_tagger()
    only_o = [s for s in data if set(s.tags) == {"O"}]
    batch = next(iter(tagger.batches(only_o, 8, np.random.default_rng(0), train=False)))
    net = tagger.net.eval()
    with torch.no_grad():
        assert torch.equal(net.loss(batch, 0.2), net.loss(batch, 1.0))


def test_unk_replacement_only_touches_singletons() -> None:
    tagger, data = make_tagger()
    counts: dict[int, int] = {}
    for s in data:
        for tok in s.tokens:
            wid = tagger.vocab.word_id(tok)
            counts[wid] = counts.get(wid, 0) + 1
    rng = np.random.default_rng(0)
    with tagger.fitting(TrainConfig(unk_replace=1.0), data):  # the trainer holds this while it trains
        for batch in tagger.batches(data, 4, rng, train=True):
            words = batch.words[batch.mask]
            assert not any(counts.get(int(w), 0) == 1 for w in words), "every singleton becomes UNK at p=1"
            assert any(int(w) != UNK_ID for w in words)
    with tagger.fitting(TrainConfig(unk_replace=0.0), data):
        for batch in tagger.batches(data, 4, rng, train=True):
            assert UNK_ID not in batch.words[batch.mask].tolist()


def test_training_batches_cover_every_sentence_once() -> None:
    tagger, data = make_tagger()
    seen = []
    for batch in tagger.batches(data + [Sentence((), ())], 3, np.random.default_rng(1), train=True):
        assert torch.all(batch.lengths[:-1] >= batch.lengths[1:])
        seen.extend(batch.order)
    assert sorted(seen) == list(range(len(data)))


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError):
        BiLSTMConfig(hiden=3)
    tagger = BiLSTMCRFTagger.create(toy_data(), LabelSpace.from_sentences(toy_data()), {"hidden": 7})
    assert tagger.config.hidden == 7


def test_unknown_tag_in_training_data_is_a_data_error() -> None:
    from xner.errors import DataError

    tagger, data = make_tagger()
    odd = Sentence(("Bob",), ("B-robot",), file="x.txt", line=7)
    with pytest.raises(DataError, match=r"x.txt:7.*B-robot"):
        list(tagger.batches(data + [odd], 4, np.random.default_rng(0), train=True))


def test_creating_a_tagger_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_tagger(seed=9)
    assert torch.equal(torch.rand(3), expected)
