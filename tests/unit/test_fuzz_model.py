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

from xner.models.modeldir import load_tagger


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def models() -> dict[str, Path]:
    return shared_models()


def _files(model: Path) -> list[str]:
    return sorted(str(p.relative_to(model)) for p in model.rglob("*") if p.is_file())


def _load_mutated(model: Path, name: str, data: bytes, names: str | None = None,
                  expect: str | None = None) -> None:
    """Load ``model`` with file ``name`` replaced by ``data``: a model or a one-line UserError
    (naming ``names``, relative to the copied model folder, when given)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "model"
        shutil.copytree(model, copy)
        (copy / name).write_bytes(data)
        # Naming the folder is checked by the catalogue; here: a one-line UserError or a model.
        outcome = check_outcome(lambda: load_tagger(copy), str(copy / names) if names else None)
    assert expect is None or outcome == expect


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


# Regressions: transformers raised AttributeError/TypeError for these, a traceback through the CLI.
@pytest.mark.parametrize("name", ["encoder/config.json", "encoder/tokenizer_config.json", "encoder/tokenizer.json"])
@pytest.mark.parametrize("content", [b"1", b"[]"])
def test_encoder_json_that_is_not_an_object(models: dict[str, Path], name: str, content: bytes) -> None:
    _load_mutated(models["encoder"], name, content, names=name, expect="error")


def test_bad_vocabulary_error_names_the_file(models: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(models["bilstm_crf"], copy)
    meta = json.loads((copy / "meta.json").read_text(encoding="utf-8"))
    meta["vocab"] = {"words": ["x"], "chars": []}
    (copy / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    assert check_outcome(lambda: load_tagger(copy), str(copy)) == "error"


def test_encoder_tokenizer_with_unknown_component(models: dict[str, Path]) -> None:
    """Regression: the tokenizers library raises a bare Exception ('data did not match any variant
    of untagged enum ...'); it must become a ModelError naming tokenizer.json."""
    model = models["encoder"]
    tokenizer = json.loads((model / "encoder" / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["normalizer"] = {"type": "NoSuchNormalizer"}
    _load_mutated(model, "encoder/tokenizer.json", json.dumps(tokenizer).encode(),
                  names="encoder/tokenizer.json", expect="error")
