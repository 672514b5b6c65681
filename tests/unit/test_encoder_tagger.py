"""EncoderTagger on a tiny randomly initialised BERT (hidden 32, 2 layers) and a written vocab."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from _tiny_models import save_tiny_bert

from xner.data.corpus import Sentence
from xner.errors import ConfigError, ModelError
from xner.labels.space import LabelSpace
from xner.models.base import Tagger, TrainConfig
from xner.models.encoder import EncoderConfig, EncoderTagger, default_encoder_path, recommended_train_config
from xner.models.modeldir import load_tagger
from xner.training.trainer import fit

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
NAMES = ["alice", "bob", "carol"]
PLACES = ["paris", "rome", "oslo"]
FILLER = ["the", "went", "to", "and", "met", "in", "saw", "."]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
# The toy encoder is random, so it trains at a BiLSTM-like lr that a real encoder would not take.
pytestmark = pytest.mark.filterwarnings("ignore:lr .* is far above:UserWarning")

VOCAB = SPECIALS + NAMES + PLACES + FILLER + LETTERS + ["##" + c for c in LETTERS]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT with its WordPiece vocabulary, saved like a hub folder."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), VOCAB, hidden=32, layers=2, positions=64)


def make_sentence(rng: random.Random, length: int = 6) -> Sentence:
    """Names are persons, places are locations, the rest is O: a pattern a tagger must learn."""
    tokens, tags = [], []
    for _ in range(length):
        kind = rng.random()
        if kind < 0.25:
            tokens.append(rng.choice(NAMES).capitalize())
            tags.append("B-person")
        elif kind < 0.45:
            tokens.append(rng.choice(PLACES).capitalize())
            tags.append("B-location")
        else:
            tokens.append(rng.choice(FILLER))
            tags.append("O")
    return Sentence(tuple(tokens), tuple(tags), domain="toy")


@pytest.fixture(scope="module")
def toy_data() -> tuple[list[Sentence], list[Sentence]]:
    rng = random.Random(1)
    return [make_sentence(rng) for _ in range(48)], [make_sentence(rng) for _ in range(16)]


def build(tiny_encoder: Path, head: str = "softmax", **extra: object) -> EncoderTagger:
    labels = LabelSpace.from_types(["location", "person"])
    config = {"encoder": str(tiny_encoder), "head": head, "max_length": 16, "window_overlap": 4,
              "head_lr_multiplier": 1.0, **extra}
    return EncoderTagger.create([], labels, config, seed=0)


FAST = TrainConfig(epochs=8, batch_size=8, optimizer="adam", lr=3e-3, patience=8, seed=0)


def test_default_encoder_path_is_the_packaged_minilm() -> None:
    path = default_encoder_path()
    assert (path / "config.json").is_file() and (path / "tokenizer.json").is_file()


def test_config_is_strict() -> None:
    with pytest.raises(ValueError):
        EncoderConfig(unknown=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        EncoderConfig(max_length=16, window_overlap=14)
    with pytest.raises(ConfigError):
        EncoderTagger.create([], LabelSpace(), {"head": "svm"})


@pytest.mark.parametrize("name", ["no-such-org/no-such-model", "/no/such/folder"])
def test_unknown_encoder_fails_offline_with_one_line(name: str) -> None:
    with pytest.raises(ModelError) as err:
        EncoderTagger.create([], LabelSpace(), {"encoder": name})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_predict_and_marginals_cover_every_token(tiny_encoder: Path, head: str) -> None:
    tagger = build(tiny_encoder, head)
    assert isinstance(tagger, Tagger)
    long = ["Alice", "went", "to", "Paris"] * 12  # 48 words, far beyond 16 subwords
    # words the tokenizer maps to nothing, and one word longer than a whole window (26 subwords)
    odd = ["bob", "\u200b", "\x07", "", "Rome", "qwertyuiopasdfghjklzxcvbnm", "oslo"]
    inputs = [long, odd, [], ["oslo"]]
    tags = tagger.predict(inputs)
    assert [len(t) for t in tags] == [48, 7, 0, 1]
    assert all(t in tagger.labels for row in tags for t in row)
    if tagger.net.crf is not None:  # strong transitions: forward-backward must stay exact
        with torch.no_grad():
            tagger.net.crf.transitions.normal_(0, 3, generator=torch.Generator().manual_seed(0))
    probs = tagger.marginals(inputs)
    assert [p.shape for p in probs] == [(48, 5), (7, 5), (0, 5), (1, 5)]
    for p in probs:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_windowed_word_matches_its_home_window(tiny_encoder: Path) -> None:
    """A word of a long sentence scores exactly as in a short sentence made of its home window."""
    tagger = build(tiny_encoder)
    long = ["Alice", "went", "to", "Paris", "and", "met", "Bob", "in", "Rome"] * 3
    [enc] = tagger.encode([long])
    assert len(enc.windows) > 2
    probs = tagger.marginals([long])[0]
    for i, w in enumerate(enc.home):
        a, b = enc.windows[w]
        alone = tagger.marginals([long[a:b]])[0]
        np.testing.assert_allclose(probs[i], alone[i - a], atol=1e-5)


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_fit_learns_a_trivial_pattern(tiny_encoder: Path, toy_data, head: str) -> None:
    train, dev = toy_data
    tagger = build(tiny_encoder, head, head_lr_multiplier=3.0)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        first = float(sum(tagger.loss(b, 1.0) for b in tagger.batches(train, 8, rng, train=False)))
    result = fit(tagger, train, dev, FAST)
    with torch.no_grad():
        last = float(sum(tagger.loss(b, 1.0) for b in tagger.batches(train, 8, rng, train=False)))
    assert last < first * 0.5
    assert result.best_dev_f1 >= 0.9
    # the head's learning-rate parametrisation is gone after training: plain weights again
    assert all("parametrizations" not in k for k in tagger.module.state_dict())


def test_save_load_round_trip_needs_neither_network_nor_original(tiny_encoder: Path, toy_data,
                                                                  tmp_path: Path) -> None:
    train, dev = toy_data
    tagger = build(tiny_encoder, "crf")
    with pytest.warns(UserWarning, match="far above"):  # fine for a random toy, not for MiniLM
        fit(tagger, train[:16], dev[:4], TrainConfig(epochs=2, batch_size=8, lr=3e-3, seed=0))
    tagger.label_mode = "raw"
    copy_of_encoder = tmp_path / "moved_encoder"
    shutil.copytree(tiny_encoder, copy_of_encoder)
    tagger.config = tagger.config.model_copy(update={"encoder": str(copy_of_encoder)})
    tagger.save(tmp_path / "model")
    shutil.rmtree(copy_of_encoder)
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    assert meta["backbone"] == "encoder" and meta["label_mode"] == "raw"
    assert meta["labels"] == tagger.labels.tags
    assert (tmp_path / "model" / "encoder" / "config.json").is_file()
    loaded = EncoderTagger.load(tmp_path / "model")
    assert isinstance(load_tagger(tmp_path / "model"), EncoderTagger)  # dispatch on meta.json
    sentences = [list(s.tokens) for s in dev] + [["Alice", "went"] * 20]
    assert loaded.predict(sentences) == tagger.predict(sentences)
    for a, b in zip(loaded.marginals(sentences), tagger.marginals(sentences)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert loaded.label_mode == "raw" and loaded.config == tagger.config


def test_load_rejects_bad_directories(tiny_encoder: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        EncoderTagger.load(tmp_path / "missing")
    build(tiny_encoder).save(tmp_path / "model")
    meta_path = tmp_path / "model" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "labels": ["O", "B-x"]}))  # weights no longer fit
    with pytest.raises(ModelError):
        EncoderTagger.load(tmp_path / "model")
    meta_path.write_text(json.dumps({**meta, "backbone": "bilstm_crf"}))
    with pytest.raises(ModelError):
        EncoderTagger.load(tmp_path / "model")
    meta_path.write_text(json.dumps(meta))
    shutil.rmtree(tmp_path / "model" / "encoder")
    with pytest.raises(ModelError):
        EncoderTagger.load(tmp_path / "model")


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_adapt_keeps_shared_rows(tiny_encoder: Path, head: str) -> None:
    tagger = build(tiny_encoder, head)
    old_w = tagger.net.proj.weight.detach().clone()
    old_b = tagger.net.proj.bias.detach().clone()
    if tagger.net.crf is not None:
        with torch.no_grad():
            tagger.net.crf.transitions.normal_()
        old_t = tagger.net.crf.transitions.detach().clone()
    grown = tagger.labels.copy()
    grown.add_types(["album"])
    tagger.adapt([], grown)
    assert tagger.labels.tags == grown.tags and tagger.net.proj.out_features == len(grown)
    n = len(old_b)
    assert torch.equal(tagger.net.proj.weight[:n], old_w) and torch.equal(tagger.net.proj.bias[:n], old_b)
    if tagger.net.crf is not None:
        assert torch.equal(tagger.net.crf.transitions[:n, :n], old_t)
    assert tagger.marginals([["alice"]])[0].shape == (1, len(grown))
    with pytest.raises(ModelError):
        tagger.adapt([], LabelSpace.from_types(["zebra"]))


def test_quantized_predictions_and_fp32_save(tiny_encoder: Path, toy_data, tmp_path: Path) -> None:
    train, dev = toy_data
    tagger = build(tiny_encoder)
    fit(tagger, train, dev, FAST)
    before = tagger.predict(dev)
    tagger.quantize()
    after = tagger.predict(dev)
    assert [len(t) for t in after] == [len(s) for s in dev]
    agree = np.mean([a == b for x, y in zip(before, after) for a, b in zip(x, y)])
    assert agree >= 0.9
    tagger.save(tmp_path / "q")
    assert EncoderTagger.load(tmp_path / "q").predict(dev) == before  # saved weights are fp32


def test_recommended_train_config_suits_fine_tuning() -> None:
    cfg = recommended_train_config(epochs=3)
    assert cfg.epochs == 3 and cfg.lr < 1e-3


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_o_weight_changes_the_loss_in_the_expected_direction(tiny_encoder: Path, toy_data, head: str) -> None:
    tagger = build(tiny_encoder, head, dropout=0.0)
    batch = next(iter(tagger.batches(toy_data[0], 8, np.random.default_rng(0), train=False)))
    with torch.no_grad():
        plain, weighted = float(tagger.loss(batch, 1.0)), float(tagger.loss(batch, 0.5))
    # softmax: O tokens count half; CRF: cost-augmented partition can only grow the NLL
    assert weighted < plain if head == "softmax" else weighted > plain


def test_adapt_is_deterministic(tiny_encoder: Path) -> None:
    grown = LabelSpace.from_types(["location", "person"])
    grown.add_types(["album"])
    weights = []
    for _ in range(2):
        tagger = build(tiny_encoder)
        torch.rand(3)  # whatever happened to the global RNG before must not matter
        tagger.adapt([], grown)
        weights.append(tagger.net.proj.weight.detach().clone())
    assert torch.equal(weights[0], weights[1])


def test_adapt_with_origins_copies_the_origin_rows(tiny_encoder: Path) -> None:
    tagger = build(tiny_encoder, "crf")
    grown = tagger.labels.copy()
    grown.add_types(["politician", "zorblax"])
    bp, bper = grown.id("B-politician"), grown.id("B-person")
    tagger.adapt([], grown, {bp: bper})
    proj, crf = tagger.net.proj, tagger.net.crf
    assert torch.equal(proj.weight[bp], proj.weight[bper]) and proj.bias[bp] == proj.bias[bper]
    assert crf is not None and crf.start[bp] == crf.start[bper]
    assert not torch.equal(proj.weight[grown.id("B-zorblax")], proj.weight[bper])  # fresh row


def test_head_learns_faster_only_while_fitting(tiny_encoder: Path) -> None:
    tagger = build(tiny_encoder, "crf", head_lr_multiplier=20.0)
    names = {n for n, _ in tagger.net.named_parameters()}
    with tagger.fitting(FAST, []):
        inside = {n for n, _ in tagger.net.named_parameters()}
        groups = tagger.param_groups(FAST.lr)
    # the head is reparametrised (weight = multiplier x raw) inside, and only there
    assert "proj.parametrizations.weight.original" in inside and "proj.weight" in names
    assert {n for n, _ in tagger.net.named_parameters()} == names
    assert sum(len(g["params"]) for g in groups) == len(inside)
