"""Loading a model directory never executes code from it.

Next to valid files, each directory gets: pickles whose unpickling creates a marker file
(``pytorch_model.bin``, ``model.pkl``, ``training_args.bin``, ``optimizer.pt``, also inside
``encoder/``), and ``config.json`` / ``tokenizer_config.json`` entries with ``auto_map`` and
``trust_remote_code`` pointing at a module whose import creates another marker. Loading must
either work from the safetensors + JSON files alone or fail with a one-line ModelError; the
markers must never appear. Sanity checks prove both payloads do create the marker when run.
"""

from __future__ import annotations

import json
import pickle
import runpy
import shutil
from pathlib import Path

import pytest
import torch
from _fuzz import check_outcome
from _tiny_models import shared_models

import xner.api as api
from xner.models.modeldir import load_tagger

PICKLE_NAMES = ("pytorch_model.bin", "model.pkl", "training_args.bin", "optimizer.pt")


class _Payload:
    """Unpickling this calls ``open(marker, "w")``: the marker file appears."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def _evil_module(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()\nclass EvilModel: pass\nclass EvilConfig: pass\n"


def _plant(folder: Path, marker: Path) -> None:
    """Pickles, remote-code hints and the module they name, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in PICKLE_NAMES:
        (folder / name).write_bytes(pickle.dumps(_Payload(marker)))
    (folder / "evil.py").write_text(_evil_module(marker), encoding="utf-8")
    auto_map = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel",
                "AutoTokenizer": ["evil.EvilModel", None]}
    for name in ("config.json", "tokenizer_config.json"):
        path = folder / name
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        data.update(auto_map=auto_map, trust_remote_code=True)
        path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def clean() -> dict[str, Path]:
    return shared_models()


def _hostile(clean: Path, tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "model"
    shutil.copytree(clean, model)
    marker = tmp_path / "PWNED"
    _plant(model, marker)
    if (model / "encoder").is_dir():
        _plant(model / "encoder", marker)
    return model, marker


def test_payloads_do_run_when_unpickled_or_imported(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    _plant(tmp_path / "folder", marker)
    pickle.loads((tmp_path / "folder" / "pytorch_model.bin").read_bytes())  # noqa: S301 - the point
    assert marker.exists()
    marker.unlink()
    runpy.run_path(str(tmp_path / "folder" / "evil.py"))
    assert marker.exists()


@pytest.mark.parametrize("backbone", ["bilstm_crf", "encoder"])
def test_loading_ignores_pickles_and_remote_code(clean: dict[str, Path], tmp_path: Path, backbone: str) -> None:
    model, marker = _hostile(clean[backbone], tmp_path)
    outcomes = [check_outcome(lambda: load_tagger(model), str(model)),
                check_outcome(lambda: api.load_model(model), str(model))]
    assert not marker.exists()
    if outcomes == ["ok", "ok"]:  # then it is the safetensors model, predicting as before
        tokens = [["Alice", "met", "Bob", "in", "Paris", "."]]
        assert load_tagger(model).predict(tokens) == load_tagger(clean[backbone]).predict(tokens)
    assert not marker.exists()


@pytest.mark.parametrize("backbone", ["bilstm_crf", "encoder"])
def test_pickle_weights_alone_are_refused(clean: dict[str, Path], tmp_path: Path, backbone: str) -> None:
    model, marker = _hostile(clean[backbone], tmp_path)
    (model / "model.safetensors").unlink()  # only the pickled "weights" are left
    assert check_outcome(lambda: load_tagger(model), str(model)) == "error"
    assert not marker.exists()
