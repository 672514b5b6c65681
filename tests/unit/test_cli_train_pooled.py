"""`xner train --domain a,b` (pooled domains) and `--init-model DIR` (fine-tune a saved model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_train import SOURCE_ENTS, TARGET_ENTS, TINY, run_cli, run_in_fixture, run_toml, write_domains

SCIENCE_ENTS = [("Einstein", "scientist"), ("Nature", "academicjournal"), ("Paris", "location")]
SIZES = {"conll2003": (40, 10, 10), "ai": (12, 8, 8), "science": (10, 6, 5)}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_domains(tmp_path_factory.mktemp("pooled"), [(name, ents, SIZES[name]) for name, ents in (
        ("conll2003", SOURCE_ENTS), ("ai", TARGET_ENTS), ("science", SCIENCE_ENTS))], seed=1)
    (folder / "tiny.json").write_text(json.dumps(TINY))
    return folder


def args_for(root: Path, domain: str, out: Path, *extra: str, tiny: bool = True) -> list[str]:
    config = ["--model-config", str(root / "tiny.json")] if tiny else []
    return ["train", "--domain", domain, "--data", str(root), "--out", str(out), "--epochs", "2",
            "--source-epochs", "2", "--threads", "1", "--cache", str(root / "cache"), "--quiet", *config, *extra]


@pytest.fixture(scope="module")
def pooled_model(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "pooled"
    run_in_fixture(args_for(root, "ai,science", out))
    return out


def test_pooled_domains_train_on_every_split(pooled_model: Path) -> None:
    metrics = json.loads((pooled_model / "metrics.json").read_text())
    assert metrics["target"] == "ai,science" and run_toml(pooled_model)["data"]["target"] == ["ai", "science"]
    labels = json.loads((pooled_model / "meta.json").read_text())["labels"]
    # Both domains' types are in the label space, after the source's.
    assert {"B-algorithm", "B-programlang", "B-scientist", "B-academicjournal"} <= set(labels[9:])
    test_support = sum(v["support"] for k, v in metrics["test"]["per_type"].items())
    assert test_support == SIZES["ai"][2] + SIZES["science"][2]  # one entity a test sentence


def test_init_model_fine_tunes_the_saved_model_without_pretraining(
    pooled_model: Path, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = set((root / "cache").glob("*/pretrain.json"))
    out = tmp_path / "ai"
    code, stdout, err = run_cli(args_for(root, "ai", out, "--init-model", str(pooled_model), tiny=False),
                                monkeypatch, capsys)
    assert code == 0, err
    assert stdout.startswith("ai ptf (raw labels): dev F1")
    assert set((root / "cache").glob("*/pretrain.json")) == before  # nothing pre-trained again
    run = run_toml(out)
    assert Path(run["backbone"]["init_model"]) == pooled_model.resolve()
    assert run["backbone"]["name"] == "bilstm_crf"  # read from the starting model
    assert "settings" not in run["backbone"] or run["backbone"]["settings"] == {}
    theirs = json.loads((pooled_model / "meta.json").read_text())["labels"]
    ours = json.loads((out / "meta.json").read_text())["labels"]
    assert ours[: len(theirs)] == theirs  # the starting model's label ids are kept


@pytest.mark.parametrize("extra, message", [
    (["--mode", "dft"], "backbone.init_model needs mode ptf, not dft"),
    (["--model-config", "x.json"], "--model-config does not apply with --init-model"),
    (["--encoder", "x"], "--encoder does not apply with --init-model"),
    (["--source-limit", "5"], "--source-limit does not apply with --init-model"),
    (["--backbone", "encoder"], "backbone.name is encoder but init_model is a bilstm_crf model"),
    (["--labels", "normalised"], "trained on raw labels, not normalised"),
    (["--set", "backbone.settings.hidden=4"], "backbone: settings do not apply with init_model"),
])
def test_init_model_conflicts_are_one_line_errors(
    extra: list[str], message: str, pooled_model: Path, root: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    args = args_for(root, "ai", tmp_path / "m", "--init-model", str(pooled_model), *extra, tiny=False)
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("domain, message", [
    ("ai,ai", "error: --domain (data.target): target domains must not repeat: ai named more than once"),
    ("ai,", "error: --domain (data.target): a target domain name is empty"),
    ("ai,physics", "physics"),
])
def test_bad_domain_lists_are_one_line_errors(domain: str, message: str, root: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(args_for(root, domain, tmp_path / "m"), monkeypatch, capsys)
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_init_model_that_is_not_a_model_is_a_one_line_error(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(args_for(root, "ai", tmp_path / "m", "--init-model", str(tmp_path / "empty"), tiny=False),
                           monkeypatch, capsys)
    assert code == 2 and "not an xner model directory" in err and err.count("\n") == 1, err
