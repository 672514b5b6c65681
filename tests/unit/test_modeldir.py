"""The model folder: a normalised model keeps the label map it was trained with, however it is saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from _tiny_models import TINY_BILSTM

import xner.api as api
from xner.data.corpus import Domain, Sentence
from xner.labels.normalise import LabelMap
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
