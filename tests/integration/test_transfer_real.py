"""PTF on the real data: conll2003 (a few hundred sentences) -> ai with a tiny BiLSTM-CRF."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from xner.api import evaluate_model, load_model
from xner.data.conll import load_domain, read_conll
from xner.data.corpus import Domain
from xner.models.base import TrainConfig
from xner.models.modeldir import load_tagger
from xner.transfer.pretrain_finetune import finetune, pretrain_source, train_target

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "crossner"
TINY = {"word_dim": 16, "casing_dim": 4, "char_dim": 8, "char_filters": 8, "hidden": 16}
CFG = TrainConfig(epochs=2, seed=3, threads=1)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def source() -> Domain:
    if not DATA.is_dir():
        pytest.skip(f"real CrossNER data not found at {DATA}")
    # Only the files needed, and only a few hundred sentences of them: the test must stay fast.
    train = read_conll(DATA / "conll2003" / "train.txt", "conll2003")[:300]
    dev = read_conll(DATA / "conll2003" / "dev.txt", "conll2003")[:100]
    return Domain("conll2003", train=train, dev=dev)


@pytest.fixture(scope="module")
def ai() -> Domain:
    if not DATA.is_dir():
        pytest.skip(f"real CrossNER data not found at {DATA}")
    return load_domain(DATA / "ai", "ai")


@pytest.fixture(scope="module")
def pretrained(source: Domain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pretrain_source(source, "bilstm_crf", TINY, CFG, "raw", None, tmp_path_factory.mktemp("cache"))


def test_pretrained_model_has_the_four_conll_types(pretrained: Path) -> None:
    tagger = load_tagger(pretrained)
    assert sorted(tagger.labels.types) == ["location", "misc", "organisation", "person"]
    assert tagger.label_mode == "raw"


def test_adapt_grows_labels_and_vocab_and_keeps_shared_weights(pretrained: Path, ai: Domain) -> None:
    from xner.transfer.joint import union_labels

    tagger = load_tagger(pretrained)
    before = {k: v.clone() for k, v in tagger.module.state_dict().items()}
    old_tags = list(tagger.labels.tags)
    labels = tagger.labels.copy()
    labels.extend(union_labels(ai.train, ai.dev))
    tagger.adapt(ai.train, labels)
    assert tagger.labels.tags[: len(old_tags)] == old_tags
    assert {"algorithm", "programlang", "researcher"} <= set(tagger.labels.types[4:])
    after = tagger.module.state_dict()
    grown = 0
    for name, old in before.items():
        new = after[name]
        if new.shape != old.shape:
            grown += 1
        corner = tuple(slice(0, d) for d in old.shape)
        assert torch.equal(new[corner], old), f"{name}: shared rows changed"
    assert grown >= 3  # word embeddings, output layer, CRF (at least)


def test_ptf_on_ai_trains_saves_and_reloads_identically(pretrained: Path, ai: Domain, tmp_path: Path) -> None:
    source_tags = load_tagger(pretrained).labels.tags
    tagger, result = finetune(pretrained, ai.train, ai.dev, CFG)
    assert result.epochs_run >= 1 and 0.0 <= result.best_dev_f1 <= 1.0
    assert tagger.labels.tags[: len(source_tags)] == source_tags
    assert "B-programlang" in tagger.labels
    tagger.label_mode = "raw"
    tagger.save(tmp_path / "model")
    model = load_model(tmp_path / "model")
    tokens = [list(s.tokens) for s in ai.test[:80]]
    assert model.predict_tokens(tokens) == tagger.predict(tokens)
    assert model.labels == tagger.labels.tags and model.label_mode == "raw"
    gold, pred = evaluate_model(tmp_path / "model", "ai", "test", DATA)
    assert len(gold) == len(ai.test) == 431 and [len(p) for p in pred] == [len(s) for s in gold]
    (entities,) = model.predict(["Geoffrey Hinton applied backpropagation in Python at the University of Toronto."])
    for entity in entities:
        assert entity.type in model.entity_types


def test_train_target_ptf_uses_the_cache(source: Domain, ai: Domain, pretrained: Path) -> None:
    stamp = (pretrained / "pretrain.json").stat().st_mtime_ns
    tagger, _ = train_target("ptf", source, ai.train, ai.dev, CFG.model_copy(update={"epochs": 1}),
                             model_config=TINY, cache_dir=pretrained.parent, source_cfg=CFG)
    assert (pretrained / "pretrain.json").stat().st_mtime_ns == stamp
    assert len(list(pretrained.parent.glob("*/pretrain.json"))) == 1
    assert tagger.label_mode == "raw"
