"""`xner train --domain politics,science` on the real data, then `--init-model` that model on ai."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from xner.data.conll import read_conll

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "crossner"
TINY = {"word_dim": 16, "casing_dim": 4, "char_dim": 8, "char_filters": 8, "hidden": 16}

pytestmark = pytest.mark.integration


def _train(folder: Path, domain: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "xner", "train", "--domain", domain, "--data", str(DATA), "--out", str(out),
           "--epochs", "1", "--threads", "1", "--cache", str(folder / "cache"), "--quiet", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DATA / "politics" / "train.txt").is_file():
        pytest.skip(f"real CrossNER data not found at {DATA}")
    path = tmp_path_factory.mktemp("pooled_real")
    (path / "tiny.json").write_text(json.dumps(TINY))
    return path


@pytest.fixture(scope="module")
def pooled(folder: Path) -> Path:
    out = folder / "pooled"
    proc = _train(folder, "politics,science", out, "--model-config", str(folder / "tiny.json"),
                  "--source-limit", "200", "--source-epochs", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("politics,science ptf (raw labels): dev F1")
    return out


def _gold_entities(split: str, *domains: str) -> int:
    return sum(t.startswith("B-") for d in domains for s in read_conll(DATA / d / f"{split}.txt", d) for t in s.tags)


def test_pooled_model_covers_both_domains_types_and_test_splits(pooled: Path) -> None:
    metrics = json.loads((pooled / "metrics.json").read_text())
    run = tomllib.loads((pooled / "run.toml").read_text())
    assert metrics["target"] == "politics,science" and run["data"]["target"] == ["politics", "science"]
    assert run["data"]["source_subset"] == 200 and run["pretrain"]["epochs"] == 1
    assert sum(v["support"] for v in metrics["test"]["per_type"].values()) == _gold_entities(
        "test", "politics", "science")
    labels = json.loads((pooled / "meta.json").read_text())["labels"]
    assert {"B-politician", "B-politicalparty", "B-scientist", "B-chemicalelement"} <= set(labels)


def test_init_model_on_ai_keeps_the_pooled_labels_and_does_not_pretrain(pooled: Path, folder: Path) -> None:
    cached = sorted((folder / "cache").rglob("pretrain.json"))
    out = folder / "ai"
    proc = _train(folder, "ai", out, "--init-model", str(pooled))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ai ptf (raw labels): dev F1")
    assert sorted((folder / "cache").rglob("pretrain.json")) == cached
    before = json.loads((pooled / "meta.json").read_text())["labels"]
    after = json.loads((out / "meta.json").read_text())["labels"]
    assert after[: len(before)] == before and {"B-algorithm", "B-researcher"} <= set(after[len(before):])
    metrics = json.loads((out / "metrics.json").read_text())
    assert Path(tomllib.loads((out / "run.toml").read_text())["backbone"]["init_model"]) == pooled.resolve()
    assert sum(v["support"] for v in metrics["test"]["per_type"].values()) == _gold_entities("test", "ai")
