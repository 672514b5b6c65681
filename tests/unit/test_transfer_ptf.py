"""PTF with a fake tagger: pre-training cache, label/vocab growth, label modes, dispatch."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from _transfer_fake import FakeTagger, fake_create_tagger, fake_fit, sent

import xner.transfer.joint as joint
import xner.transfer.pretrain_finetune as ptf
from xner.data.corpus import Domain
from xner.errors import ConfigError
from xner.labels.normalise import LabelMap
from xner.models.base import TrainConfig

CFG = TrainConfig(epochs=2, seed=1)


@pytest.fixture(autouse=True)
def fake_backbone(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeTagger.fit_calls.clear()
    monkeypatch.setattr(joint, "create_tagger", fake_create_tagger)
    monkeypatch.setattr(ptf, "load_tagger", FakeTagger.load)
    monkeypatch.setattr(joint, "fit_tagger", fake_fit)
    monkeypatch.setattr(ptf, "fit_tagger", fake_fit)


def source_domain(extra: str = "") -> Domain:
    train = [
        sent("John/B-person Smith/I-person lives/O in/O Paris/B-location ./O", "conll2003", 1),
        sent("IBM/B-organisation hired/O Mary/B-person" + extra, "conll2003", 2),
        sent("The/O Euro/B-misc rose/O", "conll2003", 3),
    ]
    dev = [sent("Mary/B-person visited/O Paris/B-location", "conll2003", 9)]
    return Domain("conll2003", train=train, dev=dev)


TARGET_TRAIN = [
    sent("Python/B-programlang was/O written/O by/O Guido/B-person", "ai", 1),
    sent("Backpropagation/B-algorithm trains/O networks/O in/O Paris/B-location", "ai", 2),
]
TARGET_DEV = [sent("Python/B-programlang uses/O backpropagation/B-algorithm", "ai", 5)]


def test_pretrain_is_cached_and_second_call_does_not_train(tmp_path: Path) -> None:
    first = ptf.pretrain_source(source_domain(), "bilstm_crf", {"hidden": 8}, CFG, "raw", None, tmp_path)
    assert len(FakeTagger.fit_calls) == 1
    assert (first / "pretrain.json").is_file() and (first / "train_log.jsonl").is_file()
    info = json.loads((first / "pretrain.json").read_text())
    assert info["source"] == "conll2003" and info["train_sentences"] == 3
    second = ptf.pretrain_source(source_domain(), "bilstm_crf", {"hidden": 8}, CFG, "raw", None, tmp_path)
    assert second == first
    assert len(FakeTagger.fit_calls) == 1
    assert first.parent == tmp_path and first.name == info["key"]


@pytest.mark.parametrize("change", ["config", "train_cfg", "data", "label_mode", "backbone"])
def test_pretrain_hash_covers_every_input(tmp_path: Path, change: str) -> None:
    base = dict(source=source_domain(), backbone="bilstm_crf", model_config={"hidden": 8},
                train_cfg=CFG, label_mode="raw", label_map=None, cache_dir=tmp_path)
    first = ptf.pretrain_source(**base)
    changed = dict(base)
    if change == "config":
        changed["model_config"] = {"hidden": 16}
    elif change == "train_cfg":
        changed["train_cfg"] = TrainConfig(epochs=2, seed=2)
    elif change == "data":
        changed["source"] = source_domain(extra=" today/O")
    elif change == "label_mode":
        changed["label_mode"] = "normalised"
    else:
        changed["backbone"] = "encoder"
    assert ptf.pretrain_source(**changed) != first
    # A label mode that only renames the source's labels copies the raw model (no training).
    assert len(FakeTagger.fit_calls) == (1 if change == "label_mode" else 2)


def test_threads_setting_does_not_change_the_hash(tmp_path: Path) -> None:
    first = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    again = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG.model_copy(update={"threads": 2}),
                                "raw", None, tmp_path)
    assert first == again and len(FakeTagger.fit_calls) == 1


def test_label_map_contents_change_the_hash(tmp_path: Path) -> None:
    mapping = {"person": "PER", "location": "LOC", "organisation": "ORG", "misc": "MISC"}
    a = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "normalised", LabelMap(mapping), tmp_path)
    b = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "normalised",
                            LabelMap({**mapping, "misc": "ORG"}), tmp_path)
    assert a != b
    tags = FakeTagger.fit_calls[1]["labels"]
    assert "B-MISC" not in tags and "B-ORG" in tags


def test_normalised_pretrain_reuses_the_raw_model_when_the_map_changes_nothing(tmp_path: Path) -> None:
    identity = LabelMap({"person": "person", "location": "location", "organisation": "organisation",
                         "misc": "misc"})
    raw = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    norm = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "normalised", identity, tmp_path)
    assert len(FakeTagger.fit_calls) == 1  # trained once, copied for the normalised mode
    assert norm != raw and norm.parent == tmp_path
    meta = json.loads((norm / "meta.json").read_text())
    info = json.loads((norm / "pretrain.json").read_text())
    assert meta["label_mode"] == "normalised" and info["label_mode"] == "normalised"
    assert info["key"] == norm.name and info["copied_from"] == raw.name
    assert json.loads((raw / "meta.json").read_text())["label_mode"] == "raw"
    assert ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "normalised", identity, tmp_path) == norm
    assert len(FakeTagger.fit_calls) == 1


def test_normalised_pretrain_renames_the_raw_model_labels_when_the_map_is_one_to_one(tmp_path: Path) -> None:
    rename = LabelMap({"person": "PER", "location": "LOC", "organisation": "ORG", "misc": "MISC"})
    raw = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    norm = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "normalised", rename, tmp_path)
    assert len(FakeTagger.fit_calls) == 1
    raw_meta = json.loads((raw / "meta.json").read_text())
    norm_meta = json.loads((norm / "meta.json").read_text())
    assert norm_meta["labels"] == [t.replace("person", "PER").replace("location", "LOC")
                                   .replace("organisation", "ORG").replace("misc", "MISC")
                                   for t in raw_meta["labels"]]
    assert {k: v for k, v in norm_meta.items() if k not in ("labels", "label_mode")} == \
        {k: v for k, v in raw_meta.items() if k not in ("labels", "label_mode")}
    tagger = FakeTagger.load(norm)
    assert tagger.label_mode == "normalised" and "B-PER" in tagger.labels.tags


def test_normalised_pretrain_trains_when_the_map_merges_labels(tmp_path: Path) -> None:
    merge = LabelMap({"person": "PER", "location": "LOC", "organisation": "ORG", "misc": "ORG"})
    ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "normalised", merge, tmp_path)
    assert len(FakeTagger.fit_calls) == 2


def test_normalised_pretrain_first_trains_the_raw_model_it_copies(tmp_path: Path) -> None:
    identity = LabelMap({"person": "person", "location": "location", "organisation": "organisation",
                         "misc": "misc"})
    norm = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "normalised", identity, tmp_path)
    raw = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    assert len(FakeTagger.fit_calls) == 1 and norm != raw


def test_concurrent_pretrain_trains_once(tmp_path: Path) -> None:
    results: list[Path] = []

    def run() -> None:
        results.append(ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 4
    assert len(FakeTagger.fit_calls) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_incomplete_cache_entry_is_rebuilt(tmp_path: Path) -> None:
    first = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    (first / "pretrain.json").unlink()  # as if a crash happened before the entry was finished
    again = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    assert again == first and (again / "pretrain.json").is_file()
    assert len(FakeTagger.fit_calls) == 2


def test_finetune_grows_labels_source_first_and_keeps_knowledge(tmp_path: Path) -> None:
    pretrained = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    source_tags = FakeTagger.load(pretrained).labels.tags
    tagger, result = ptf.finetune(pretrained, TARGET_TRAIN, TARGET_DEV, CFG)
    tags = tagger.labels.tags
    assert tags[: len(source_tags)] == source_tags  # shared ids unchanged
    assert tags[len(source_tags):] == ["B-algorithm", "I-algorithm", "B-programlang", "I-programlang"]
    assert "python" in tagger.vocab and "backpropagation" in tagger.vocab
    assert "uses" not in tagger.vocab  # dev words are not added
    # Source knowledge survives fine-tuning (IBM only occurs in the source).
    assert tagger.predict([["IBM", "and", "Python"]]) == [["B-organisation", "O", "B-programlang"]]
    assert result.epochs_run == CFG.epochs


def test_train_target_ptf_records_label_mode_and_uses_source_cfg(tmp_path: Path) -> None:
    source_cfg = TrainConfig(epochs=3, seed=1)
    tagger, _ = ptf.train_target("ptf", source_domain(), TARGET_TRAIN, TARGET_DEV, CFG,
                                 cache_dir=tmp_path, source_cfg=source_cfg)
    assert tagger.label_mode == "raw"
    assert len(FakeTagger.fit_calls) == 2
    assert len(FakeTagger.fit_calls[0]["train"]) == 3  # pre-training on the source
    assert FakeTagger.fit_calls[1]["train"] == TARGET_TRAIN
    info = json.loads(next(tmp_path.glob("*/pretrain.json")).read_text())
    assert info["train_config"]["epochs"] == 3


def test_train_target_normalised_maps_source_and_target(tmp_path: Path) -> None:
    label_map = LabelMap({"person": "PER", "location": "LOC", "organisation": "ORG", "misc": "MISC",
                          "programlang": "MISC", "algorithm": "MISC"})
    tagger, _ = ptf.train_target("ptf", source_domain(), TARGET_TRAIN, TARGET_DEV, CFG,
                                 label_mode="normalised", label_map=label_map, cache_dir=tmp_path)
    assert tagger.label_mode == "normalised"
    assert set(tagger.labels.types) == {"PER", "LOC", "ORG", "MISC"}
    saved = tmp_path / "model"
    tagger.save(saved)
    assert json.loads((saved / "meta.json").read_text())["label_mode"] == "normalised"


def test_normalised_with_unmapped_type_is_a_config_error(tmp_path: Path) -> None:
    label_map = LabelMap({"person": "PER", "location": "LOC", "organisation": "ORG", "misc": "MISC"})
    with pytest.raises(ConfigError, match="algorithm"):
        ptf.train_target("dft", None, TARGET_TRAIN, TARGET_DEV, CFG, label_mode="normalised",
                         label_map=label_map)


def test_unknown_mode_and_missing_source() -> None:
    with pytest.raises(ConfigError, match="unknown transfer mode"):
        ptf.train_target("xyz", source_domain(), TARGET_TRAIN, TARGET_DEV, CFG)
    with pytest.raises(ConfigError, match="needs a source"):
        ptf.train_target("jt", None, TARGET_TRAIN, TARGET_DEV, CFG)
    with pytest.raises(ConfigError, match="no target training"):
        ptf.finetune(Path("/nonexistent"), [], TARGET_DEV, CFG)


def test_finetune_with_a_label_map_starts_new_labels_from_source_ones(tmp_path: Path) -> None:
    pretrained = ptf.pretrain_source(source_domain(), "bilstm_crf", None, CFG, "raw", None, tmp_path)
    FakeTagger.adapt_origins.clear()
    label_map = LabelMap({"person": "PER", "location": "LOC", "organisation": "ORG", "misc": "MISC",
                          "programlang": "MISC"})
    tagger, _ = ptf.finetune(pretrained, TARGET_TRAIN, TARGET_DEV, CFG, label_map=label_map)
    ptf.finetune(pretrained, TARGET_TRAIN, TARGET_DEV, CFG)
    tags = tagger.labels.tags
    named = {tags[k]: tags[v] for k, v in FakeTagger.adapt_origins[0].items()}
    assert named == {"B-programlang": "B-misc", "I-programlang": "I-misc"}  # algorithm: unmapped
    assert FakeTagger.adapt_origins[1] == {}  # no map: every new label starts fresh


def test_train_target_label_init_map_uses_the_shipped_map_by_default(tmp_path: Path) -> None:
    FakeTagger.adapt_origins.clear()
    tagger, _ = ptf.train_target("ptf", source_domain(), TARGET_TRAIN, TARGET_DEV, CFG,
                                 cache_dir=tmp_path, label_init="map")
    tags = tagger.labels.tags
    named = {tags[k]: tags[v] for k, v in FakeTagger.adapt_origins[-1].items()}
    assert named["B-algorithm"] == "B-misc" and named["B-programlang"] == "B-misc"
    with pytest.raises(ConfigError, match="label init"):
        ptf.train_target("ptf", source_domain(), TARGET_TRAIN, TARGET_DEV, CFG, label_init="copy")
