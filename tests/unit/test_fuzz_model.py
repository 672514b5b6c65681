"""Fuzz the model loader: a saved model directory with one file mutated either loads or
gives a one-line UserError (ModelError); never another exception, never a hang.

Both backbones: a tiny BiLSTM-CRF, and an encoder tagger over a tiny random BERT.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from _fuzz import FUZZ, check_outcome, fuzzed, json_mutations
from _tiny_models import shared_models
from hypothesis import given
from hypothesis import strategies as st

from xner.training.checkpoint import load_tagger


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def models() -> dict[str, Path]:
    return shared_models()


def _files(model: Path) -> list[str]:
    return sorted(str(p.relative_to(model)) for p in model.rglob("*") if p.is_file())


def _load_mutated(model: Path, name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "model"
        shutil.copytree(model, copy)
        (copy / name).write_bytes(data)
        # Naming the folder is checked by the catalogue; here: a one-line UserError or a model.
        check_outcome(lambda: load_tagger(copy), None)


def test_unmutated_models_load_and_predict(models: dict[str, Path]) -> None:
    for backbone, model in models.items():
        tagger = load_tagger(model)
        assert type(tagger).__name__ == {"bilstm_crf": "BiLSTMCRFTagger", "encoder": "EncoderTagger"}[backbone]
        assert len(tagger.predict([["Alice", "met", "Bob"]])[0]) == 3
    assert "model.safetensors" in _files(models["encoder"]) and "encoder/config.json" in _files(models["encoder"])


@FUZZ
@given(st.data(), st.sampled_from(["model.safetensors", "meta.json"]))
def test_bilstm_mutated_file(models: dict[str, Path], data: st.DataObject, name: str) -> None:
    model = models["bilstm_crf"]
    _load_mutated(model, name, data.draw(fuzzed((model / name).read_bytes())))


@FUZZ
@given(st.data())
def test_bilstm_meta_with_wrong_json_values(models: dict[str, Path], data: st.DataObject) -> None:
    model = models["bilstm_crf"]
    tree = data.draw(json_mutations(json.loads((model / "meta.json").read_text(encoding="utf-8"))))
    _load_mutated(model, "meta.json", json.dumps(tree).encode())


@FUZZ
@given(st.data(), st.sampled_from(["model.safetensors", "meta.json", "encoder/config.json",
                                    "encoder/tokenizer.json", "encoder/tokenizer_config.json"]))
def test_encoder_mutated_file(models: dict[str, Path], data: st.DataObject, name: str) -> None:
    model = models["encoder"]
    _load_mutated(model, name, data.draw(fuzzed((model / name).read_bytes())))


def test_bad_vocabulary_error_names_the_file(models: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(models["bilstm_crf"], copy)
    meta = json.loads((copy / "meta.json").read_text(encoding="utf-8"))
    meta["vocab"] = {"words": ["x"], "chars": []}
    (copy / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    assert check_outcome(lambda: load_tagger(copy), str(copy)) == "error"
