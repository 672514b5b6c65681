"""The model folder: a normalised model keeps the label map it was trained with, however it is saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _tiny_models import TINY_BILSTM

import xner.api as api
from xner.data.corpus import Domain, Sentence
from xner.errors import ModelError
from xner.labels.normalise import LabelMap
from xner.labels.space import LabelSpace
from xner.models import modeldir
from xner.models.base import TrainConfig
from xner.transfer.pretrain_finetune import train_target

# The shipped map makes a researcher a person (PER); this one files researchers under ORG.
CUSTOM = LabelMap({"researcher": "ORG", "organisation": "ORG", "location": "LOC"})
TEXT = "Hinton\tB-researcher\nvisits\tO\nGoogle\tB-organisation\n\nZürich\tB-location\n\n"


def _data_root(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "toy"
    folder.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        (folder / f"{split}.txt").write_text(TEXT, encoding="utf-8")
    return tmp_path / "data"


def _sentences() -> list[Sentence]:
    return [Sentence(("Hinton", "visits", "Google"), ("B-researcher", "O", "B-organisation"), domain="toy"),
            Sentence(("Zürich",), ("B-location",), domain="toy")]


def test_a_model_saved_outside_the_cli_is_evaluated_with_its_own_label_map(tmp_path: Path) -> None:
    # The study (keep_models) and the Python API save with ``tagger.save``, not the CLI's writer.
    tagger, _ = train_target("dft", None, _sentences(), _sentences(), TrainConfig(epochs=1, batch_size=2),
                             model_config=TINY_BILSTM, label_mode="normalised", label_map=CUSTOM)
    assert "B-PER" not in tagger.labels.tags  # trained on the custom map's types
    tagger.save(tmp_path / "model")
    gold, _ = api.evaluate_model(tmp_path / "model", "toy", "test", data_root=_data_root(tmp_path))
    assert [list(s.tags) for s in gold] == [["B-ORG", "O", "B-ORG"], ["B-LOC"]]
    model = api.load_model(tmp_path / "model")
    assert api.model_label_map(model).to_json() == CUSTOM.to_json()


def test_a_ptf_model_and_its_cached_source_model_keep_the_custom_map(tmp_path: Path) -> None:
    source = Domain("src", train=_sentences(), dev=_sentences())
    tagger, _ = train_target("ptf", source, _sentences(), _sentences(), TrainConfig(epochs=1, batch_size=2),
                             model_config=TINY_BILSTM, label_mode="normalised", label_map=CUSTOM,
                             cache_dir=tmp_path / "cache")
    (cached,) = [p for p in (tmp_path / "cache").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert api.model_label_map(api.load_model(cached)).to_json() == CUSTOM.to_json()
    tagger.save(tmp_path / "model")
    gold, _ = api.evaluate_model(tmp_path / "model", "toy", "dev", data_root=_data_root(tmp_path))
    assert gold[0].tags == ("B-ORG", "O", "B-ORG")


@pytest.mark.parametrize("mode", ["raw", "normalised"])
def test_label_map_file_only_for_normalised_models(tmp_path: Path, mode: str) -> None:
    tagger, _ = train_target("dft", None, _sentences(), _sentences(), TrainConfig(epochs=1, batch_size=2),
                             model_config=TINY_BILSTM, label_mode=mode, label_map=CUSTOM)
    tagger.save(tmp_path / "model")
    assert (tmp_path / "model" / api.LABEL_MAP_FILE).is_file() == (mode == "normalised")


def _tiny(label_mode: str = "normalised") -> Any:
    from xner.models.factory import create_tagger
    from xner.transfer.pretrain_finetune import stamp_label_mode

    tagger = create_tagger("bilstm_crf", _sentences(), LabelSpace.from_json(["O", "B-ORG", "I-ORG"]), TINY_BILSTM)
    stamp_label_mode(tagger, label_mode, CUSTOM)
    return tagger


def test_save_model_writes_every_part_and_load_reads_the_map_back(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text('{"epoch": 1}\n', encoding="utf-8")
    folder = modeldir.save_model(tmp_path / "m", _tiny(), train_log=log, metrics={"test": {"f1": 0.5}},
                                 files={"extra.json": {"a": 1}})
    names = {p.name for p in folder.iterdir()}
    assert names == {modeldir.WEIGHTS, modeldir.META, modeldir.LABEL_MAP, modeldir.TRAIN_LOG,
                     modeldir.METRICS, "extra.json"}
    assert json.loads((folder / modeldir.METRICS).read_text()) == {"test": {"f1": 0.5}}
    loaded = modeldir.load_tagger(folder)
    assert loaded.label_mode == "normalised" and loaded.label_map.to_json() == CUSTOM.to_json()


def test_a_save_that_dies_before_the_swap_leaves_the_old_folder(tmp_path: Path) -> None:
    first = modeldir.save_model(tmp_path / "m", _tiny("raw"), metrics={"run": 1})

    def die(tmp: Path) -> None:
        assert (tmp / modeldir.LABEL_MAP).is_file()  # everything is written before the hook
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        modeldir.save_model(first, _tiny(), metrics={"run": 2}, before_commit=die)
    assert json.loads((first / modeldir.METRICS).read_text()) == {"run": 1}
    assert not (first / modeldir.LABEL_MAP).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temp folder left behind


def test_a_bad_label_map_file_is_a_one_line_model_error(tmp_path: Path) -> None:
    folder = modeldir.save_model(tmp_path / "m", _tiny())
    (folder / modeldir.LABEL_MAP).write_text('{"map": {"x": 3}}', encoding="utf-8")
    with pytest.raises(ModelError, match="bad label map") as info:
        modeldir.load_tagger(folder)
    assert "\n" not in str(info.value) and modeldir.LABEL_MAP in str(info.value)


def test_copy_model_changes_meta_and_map_and_keeps_the_weights(tmp_path: Path) -> None:
    raw = modeldir.save_model(tmp_path / "raw", _tiny("raw"), files={"pretrain.json": {"key": "a"}})
    copy = modeldir.copy_model(raw, tmp_path / "norm", meta={"label_mode": "normalised"}, label_map=CUSTOM,
                               files={"pretrain.json": {"key": "b"}})
    assert (copy / modeldir.WEIGHTS).read_bytes() == (raw / modeldir.WEIGHTS).read_bytes()
    assert json.loads((copy / "pretrain.json").read_text()) == {"key": "b"}
    loaded = modeldir.load_tagger(copy)
    assert loaded.label_mode == "normalised" and loaded.label_map.to_json() == CUSTOM.to_json()
    assert modeldir.load_tagger(raw).label_map is None
