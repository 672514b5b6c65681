"""``xner annotate export/import`` end to end with a tiny (untrained) BiLSTM-CRF."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xner.cli import app
from xner.data.conll import read_conll
from xner.labels.space import LabelSpace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY = {"word_dim": 8, "casing_dim": 2, "char_dim": 4, "char_filters": 4, "hidden": 8}


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, Path]:
    import torch

    from xner.models.bilstm_crf import BiLSTMCRFTagger

    torch.set_num_threads(1)
    shutil.copytree(FIXTURES / "annotate" / "toy", tmp_path / "data" / "toy")
    train = read_conll(tmp_path / "data" / "toy" / "train.txt", "toy")
    tagger = BiLSTMCRFTagger.create(train, LabelSpace.from_sentences(train), TINY, seed=0)
    tagger.save(tmp_path / "model")
    return tmp_path / "data", tmp_path / "model"


def test_export_then_import_unchanged(setup: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = setup
    out = tmp_path / "review"
    result = CliRunner().invoke(app, ["annotate", "export", "--model", str(model), "--data", str(data),
                                      "--domain", "toy", "--threshold", "0.1", "--budget", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 of 3 sentences" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["label_config.xml", "manifest.json", "review.conll", "tasks.json"]
    assert len(json.loads((out / "tasks.json").read_text())) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["domain"] == "toy" and manifest["sentences"] == 2 and manifest["threshold"] == 0.1
    before = read_conll(data / "toy" / "train.txt", "toy")
    merged = tmp_path / "merged.txt"
    result = CliRunner().invoke(app, ["annotate", "import", str(out / "review.conll"), "--into", str(data / "toy"),
                                      "--out", str(merged)])
    assert result.exit_code == 0, result.output
    after = read_conll(merged, "toy")
    assert [s.tokens for s in after] == [s.tokens for s in before]
    # The two reviewed sentences now carry the model's labels; the third is untouched.
    lines = (out / "review.conll").read_text().splitlines()
    items = [line.split(" = ")[1] for line in lines if line.startswith("# id")]
    untouched = [i for i, s in enumerate(before) if f"toy/train.txt/{s.line}" not in items]
    assert len(untouched) == 1 and after[untouched[0]].tags == before[untouched[0]].tags


def test_import_error_is_one_line_exit_2(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "annotate" / "toy", tmp_path / "toy")
    bad = FIXTURES / "bad" / "annotate" / "unknown_label.conll"
    proc = subprocess.run([sys.executable, "-m", "xner", "annotate", "import", str(bad), "--into",
                           str(tmp_path / "toy")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"error: {bad}:11: unknown label 'B-city'")
