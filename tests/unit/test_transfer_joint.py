"""DFT and JT with a fake tagger, the shared label layout, the factory and the hashing helpers."""

from __future__ import annotations

import pytest
from _transfer_fake import FakeTagger, fake_create_tagger, fake_fit, sent

import xner.transfer.joint as joint
import xner.transfer.pretrain_finetune as ptf
from xner.data.corpus import Domain
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig
from xner.models.factory import create_tagger
from xner.transfer.hashing import canonical, config_hash, sentences_digest

CFG = TrainConfig(epochs=1)
SOURCE = Domain("conll2003", train=[sent("Paris/B-location is/O nice/O", "conll2003", 1),
                                    sent("Mary/B-person runs/O", "conll2003", 2)],
                dev=[sent("Rome/B-location ./O", "conll2003", 5)])
TARGET_TRAIN = [sent("Python/B-programlang by/O Guido/B-person", "ai", 1)]
TARGET_DEV = [sent("Lisp/B-programlang is/O old/O", "ai", 3)]


@pytest.fixture(autouse=True)
def fake_backbone(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeTagger.fit_calls.clear()
    monkeypatch.setattr(joint, "create_tagger", fake_create_tagger)
    monkeypatch.setattr(joint, "fit_tagger", fake_fit)
    monkeypatch.setattr(ptf, "fit_tagger", fake_fit)


def test_union_labels_keeps_first_order_and_appends_new_types() -> None:
    space = joint.union_labels(SOURCE.train, TARGET_TRAIN, TARGET_DEV)
    assert space.tags == ["O", "B-location", "I-location", "B-person", "I-person",
                          "B-programlang", "I-programlang"]


def test_dft_trains_target_only_from_scratch() -> None:
    tagger, result = ptf.train_target("dft", None, TARGET_TRAIN, TARGET_DEV, CFG)
    call = FakeTagger.fit_calls[0]
    assert call["train"] == TARGET_TRAIN and call["dev"] == TARGET_DEV
    assert tagger.labels.types == ["person", "programlang"]
    assert tagger.label_mode == "raw"
    assert result.epochs_run == 1


@pytest.mark.parametrize("repeat", [1, 3])
def test_jt_concatenates_source_and_oversampled_target(repeat: int) -> None:
    tagger, _ = ptf.train_target("jt", SOURCE, TARGET_TRAIN, TARGET_DEV, CFG, target_repeat=repeat)
    call = FakeTagger.fit_calls[0]
    assert call["train"] == SOURCE.train + TARGET_TRAIN * repeat
    assert call["dev"] == TARGET_DEV  # early stopping on the target, never on the source
    assert tagger.labels.tags[:5] == LabelSpace.from_sentences(SOURCE.train).tags
    assert "B-programlang" in tagger.labels


def test_jt_default_repeat_and_bad_repeat() -> None:
    ptf.train_target("jt", SOURCE, TARGET_TRAIN, TARGET_DEV, CFG)
    assert len(FakeTagger.fit_calls[0]["train"]) == len(SOURCE.train) + joint.DEFAULT_TARGET_REPEAT
    with pytest.raises(ConfigError, match="target_repeat"):
        joint.joint_train(SOURCE.train, TARGET_TRAIN, TARGET_DEV, CFG, target_repeat=0)


def test_scratch_without_sentences_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no training sentences"):
        joint.train_scratch([], TARGET_DEV, CFG)


def test_factory_rejects_unknown_backbone() -> None:
    with pytest.raises(ConfigError, match="unknown backbone 'lstm'"):
        create_tagger("lstm", TARGET_TRAIN, LabelSpace.from_sentences(TARGET_TRAIN), None, 0)


def test_sentences_digest_depends_on_tokens_and_tags_not_location() -> None:
    a = [sent("a/O b/B-x")]
    assert sentences_digest(a) == sentences_digest([sent("a/O b/B-x", domain="other", line=7)])
    assert sentences_digest(a) != sentences_digest([sent("a/O b/B-y")])
    assert sentences_digest(a) != sentences_digest([sent("a/O"), sent("b/B-x")])  # boundaries count
    assert sentences_digest(a) != sentences_digest(a + a)


def test_config_hash_is_order_independent_and_sensitive() -> None:
    assert config_hash({"a": 1, "b": {"x": 1, "y": 2}}) == config_hash({"b": {"y": 2, "x": 1}, "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert canonical(TrainConfig(epochs=3))["epochs"] == 3
    assert canonical({"s": {2, 1}}) == {"s": [1, 2]}
