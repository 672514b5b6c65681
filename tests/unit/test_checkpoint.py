"""Model directories: round trip and every way a directory can be broken."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_bilstm_tagger import make_tagger

from xner.errors import ModelError
from xner.models.bilstm_crf import BiLSTMCRFTagger
from xner.models.modeldir import (
    META,
    WEIGHTS,
    load_checkpoint,
    load_tagger,
    read_meta,
    save_checkpoint,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[BiLSTMCRFTagger, Path]:
    tagger, _ = make_tagger(seed=4)
    # Perturb weights so the test does not pass on an all-default model.
    with torch.no_grad():
        tagger.net.crf.transitions.normal_(generator=torch.Generator().manual_seed(1))
    tagger.label_mode = "raw"
    directory = tmp_path_factory.mktemp("ckpt") / "model"
    tagger.save(directory)
    return tagger, directory


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in (WEIGHTS, META):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def test_round_trip_same_predictions_and_marginals(saved) -> None:
    tagger, directory = saved
    assert sorted(p.name for p in directory.iterdir()) == [META, WEIGHTS]
    again = BiLSTMCRFTagger.load(directory)
    data = [s.tokens for s in make_tagger()[1]] + [("Unseen", "words", "here", "!")]
    assert again.predict(data) == tagger.predict(data)
    for a, b in zip(again.marginals(data), tagger.marginals(data)):
        assert np.array_equal(a, b)
    assert again.labels.tags == tagger.labels.tags
    assert again.config == tagger.config
    assert again.label_mode == "raw"
    assert again.vocab.words.items == tagger.vocab.words.items
    via_dispatch = load_tagger(directory)
    assert isinstance(via_dispatch, BiLSTMCRFTagger)
    assert via_dispatch.predict(data) == tagger.predict(data)


def test_meta_has_required_keys(saved) -> None:
    _, directory = saved
    meta = json.loads((directory / META).read_text())
    assert {"xner_version", "backbone", "labels", "label_mode", "config", "vocab", "shapes"} <= set(meta)
    assert meta["backbone"] == "bilstm_crf"


def test_save_replaces_an_existing_directory(saved, tmp_path: Path) -> None:
    tagger, _ = saved
    target = tmp_path / "m"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    tagger.save(target)
    assert not (target / "stale.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temp dirs left behind"


def test_missing_directory_and_files(saved, tmp_path: Path) -> None:
    _, directory = saved
    with pytest.raises(ModelError, match="not found"):
        load_tagger(tmp_path / "nope")
    no_weights = _copy(directory, tmp_path / "a")
    (no_weights / WEIGHTS).unlink()
    with pytest.raises(ModelError, match=WEIGHTS):
        load_tagger(no_weights)
    no_meta = _copy(directory, tmp_path / "b")
    (no_meta / META).unlink()
    with pytest.raises(ModelError, match=META):
        load_tagger(no_meta)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "flip_header"])
def test_corrupted_weights(saved, tmp_path: Path, damage: str) -> None:
    _, directory = saved
    broken = _copy(directory, tmp_path / "m")
    data = (broken / WEIGHTS).read_bytes()
    if damage == "garbage":
        data = b"\x00\x01not a safetensors file" * 3
    elif damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data = data[:8] + b"{" + data[9:20] + b"\xff\xfe" + data[22:]
    (broken / WEIGHTS).write_bytes(data)
    with pytest.raises(ModelError, match=WEIGHTS) as err:
        load_tagger(broken)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("key", ["xner_version", "backbone", "labels", "label_mode"])
def test_missing_meta_key(saved, tmp_path: Path, key: str) -> None:
    _, directory = saved
    broken = _copy(directory, tmp_path / "m")
    meta = json.loads((broken / META).read_text())
    del meta[key]
    (broken / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=key):
        load_tagger(broken)


def test_meta_not_json(saved, tmp_path: Path) -> None:
    _, directory = saved
    broken = _copy(directory, tmp_path / "m")
    (broken / META).write_text("{not json")
    with pytest.raises(ModelError, match=META):
        load_checkpoint(broken)
    (broken / META).write_text("[1, 2]")
    with pytest.raises(ModelError, match="JSON object"):
        read_meta(broken)


def test_label_count_mismatch(saved, tmp_path: Path) -> None:
    _, directory = saved
    broken = _copy(directory, tmp_path / "m")
    meta = json.loads((broken / META).read_text())
    meta["labels"] = meta["labels"][:-2]
    (broken / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=WEIGHTS):
        load_tagger(broken)


def test_shapes_not_matching_meta(saved, tmp_path: Path) -> None:
    _, directory = saved
    broken = _copy(directory, tmp_path / "m")
    meta = json.loads((broken / META).read_text())
    meta["shapes"]["out.bias"] = [99]
    (broken / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="out.bias"):
        load_checkpoint(broken)


def test_unknown_backbone(saved, tmp_path: Path) -> None:
    _, directory = saved
    broken = _copy(directory, tmp_path / "m")
    meta = json.loads((broken / META).read_text())
    meta["backbone"] = "svm"
    (broken / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="svm"):
        load_tagger(broken)


def test_save_checkpoint_requires_meta_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save_checkpoint(tmp_path / "x", {"a": torch.zeros(2)}, {"backbone": "bilstm_crf"})
    save_checkpoint(tmp_path / "y", {"a": torch.arange(3.0)},
                    {"xner_version": "0", "backbone": "b", "labels": ["O"], "label_mode": None})
    tensors, meta = load_checkpoint(tmp_path / "y")
    assert torch.equal(tensors["a"], torch.arange(3.0)) and meta["shapes"] == {"a": [3]}


@pytest.mark.parametrize("key", ["vocab", "config"])
def test_bad_bilstm_metadata_names_meta_file(saved, tmp_path: Path, key: str) -> None:
    _, directory = saved
    broken = _copy(directory, tmp_path / "m")
    meta = json.loads((broken / META).read_text())
    meta[key] = {"nonsense": 1}
    (broken / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=META):
        load_tagger(broken)
