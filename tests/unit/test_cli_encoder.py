"""`xner train --backbone encoder` (recommended settings, --encoder), and int8 prediction
(`predict --quantize`, `evaluate --quantize`, `load_model(quantize=True)`) on a tiny random BERT."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from test_cli_train import SOURCE_ENTS, TARGET_ENTS, _sentences, run_cli, run_in_fixture
from _tiny_models import save_tiny_bert
from test_encoder_tagger import VOCAB

import xner
from xner.cli.train_cmd import train_configs
from xner.errors import ConfigError
from xner.models.base import TrainConfig
from xner.models.encoder import recommended_train_config

# The random toy encoder learns nothing at lr 5e-5: these tests check wiring, not quality.
pytestmark = pytest.mark.filterwarnings("ignore:lr .* is far above:UserWarning")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 1-layer BERT whose WordPiece vocabulary spells any lower-case word."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), VOCAB, hidden=16, layers=1, positions=64)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    rng = random.Random(0)
    for name, ents, sizes in (("conll2003", SOURCE_ENTS, (16, 4, 4)), ("ai", TARGET_ENTS, (12, 6, 6))):
        (root / name).mkdir()
        for split, n in zip(("train", "dev", "test"), sizes):
            (root / name / f"{split}.txt").write_text(_sentences(ents, n, rng))
    # windows small enough for the toy BERT's 64 positions
    (root / "encoder.json").write_text(json.dumps({"max_length": 32, "window_overlap": 8}))
    return root


def encoder_args(root: Path, out: Path, bert: Path | str, *extra: str) -> list[str]:
    return ["train", "--backbone", "encoder", "--encoder", str(bert), "--domain", "ai", "--data", str(root),
            "--out", str(out), "--model-config", str(root / "encoder.json"), "--threads", "1",
            "--cache", str(root / "cache"), "--quiet", *extra]


@pytest.fixture(scope="module")
def dft_model(data_root: Path, tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An encoder model trained with no schedule option at all: the recommended settings."""
    out = tmp_path_factory.mktemp("models") / "dft"
    run_in_fixture(encoder_args(data_root, out, tiny_bert, "--mode", "dft"))
    return out


# ------------------------------------------------------------------------------ settings

def test_bilstm_defaults_are_unchanged() -> None:
    target, source = train_configs("bilstm_crf", seed=3, threads=1, o_weight=None)
    assert (target.epochs, target.patience, target.batch_size, target.lr) == (100, 20, 8, TrainConfig().lr)
    assert (source.epochs, source.patience, source.batch_size) == (30, 5, TrainConfig().batch_size)
    assert target.optimizer == source.optimizer == "adam" and target.seed == source.seed == 3


def test_encoder_defaults_are_the_recommended_ones_and_options_win() -> None:
    target, source = train_configs("encoder", threads=1)
    assert target == source == recommended_train_config(threads=1)
    assert target.lr == 5e-5 and target.optimizer == "adamw" and target.batch_size == 16
    assert (target.weight_decay, target.clip, target.patience, target.epochs) == (0.01, 1.0, 3, 10)
    target, source = train_configs("encoder", epochs=4, patience=2, batch_size=4, source_epochs=1, lr=1e-4,
                                   o_weight=0.5)
    assert target == recommended_train_config(epochs=4, patience=2, batch_size=4, lr=1e-4, o_weight=0.5)
    assert source == recommended_train_config(epochs=1, lr=1e-4, o_weight=0.5)


@pytest.mark.parametrize("options, name", [({"epochs": 0}, "--epochs"), ({"source_patience": 0}, "--source-patience"),
                                           ({"lr": -1.0}, "--lr")])
def test_bad_schedule_values_name_their_option(options: dict[str, float], name: str) -> None:
    for backbone in ("bilstm_crf", "encoder"):
        with pytest.raises(ConfigError, match=name):
            train_configs(backbone, **options)


# ------------------------------------------------------------------------------ train

def test_dft_uses_the_recommended_settings_and_the_given_encoder(dft_model: Path, tiny_bert: Path) -> None:
    metrics = json.loads((dft_model / "metrics.json").read_text())
    assert metrics["backbone"] == "encoder" and metrics["mode"] == "dft"
    assert metrics["train_config"] == recommended_train_config(threads=1).model_dump()
    assert metrics["model_config"] == {"max_length": 32, "window_overlap": 8, "encoder": str(tiny_bert)}
    meta = json.loads((dft_model / "meta.json").read_text())
    assert meta["backbone"] == "encoder" and meta["config"]["encoder"] == str(tiny_bert)
    assert 1 <= metrics["fit"]["epochs_run"] <= 10 and metrics["test"]["n_gold"] == 6


@pytest.mark.parametrize("mode", ["ptf", "jt"])
def test_pretraining_and_jt_use_the_encoder_settings_too(mode: str, data_root: Path, tiny_bert: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = encoder_args(data_root, tmp_path / mode, tiny_bert, "--mode", mode, "--epochs", "1", "--source-epochs", "1",
                        "--lr", "1e-4", "--target-repeat", "1")
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith(f"ai {mode} (raw labels): dev F1")
    metrics = json.loads((tmp_path / mode / "metrics.json").read_text())
    source = recommended_train_config(epochs=1, lr=1e-4, threads=1).model_dump()
    if mode == "ptf":  # fine-tuning on the target schedule, pre-training on the source one
        assert metrics["train_config"] == source and metrics["source_train_config"] == source
        (pretrained,) = (data_root / "cache").glob("*/pretrain.json")
        assert json.loads(pretrained.read_text())["train_config"] == source
    else:  # jt trains on the source schedule
        assert metrics["train_config"] == source and metrics["source_train_config"] is None


def test_encoder_option_needs_the_encoder_backbone(data_root: Path, tiny_bert: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    args = encoder_args(data_root, tmp_path / "m", tiny_bert)
    args[args.index("encoder")] = "bilstm_crf"
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and err == "error: --encoder needs --backbone encoder\n"
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("case", ["missing_dir", "relative_missing", "not_a_model_dir", "unknown_hub_name"])
def test_unloadable_encoder_is_one_line_exit_2(case: str, data_root: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    name: str = {"missing_dir": str(tmp_path / "nope"), "relative_missing": "./no/such/encoder",
                 "not_a_model_dir": str(tmp_path), "unknown_hub_name": "no-such-org/no-such-model"}[case]
    code, out, err = run_cli(encoder_args(data_root, tmp_path / "m", name), monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert ("never downloads" in err) == (case == "unknown_hub_name")
    assert not (tmp_path / "m").exists()


def test_encoder_from_model_config_is_checked_too(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"encoder": str(tmp_path / "gone")}))
    args = ["train", "--backbone", "encoder", "--mode", "dft", "--domain", "ai", "--data", str(data_root),
            "--out", str(tmp_path / "m"), "--model-config", str(config)]
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and "encoder folder not found" in err and err.count("\n") == 1


# ------------------------------------------------------------------------------ quantised prediction

def test_predict_quantize_tags_every_token(dft_model: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    test_file = data_root / "ai" / "test.txt"
    outputs = []
    for extra in ([], ["--quantize"]):
        code, out, err = run_cli(["predict", "--model", str(dft_model), str(test_file), *extra], monkeypatch, capsys)
        assert code == 0, err
        outputs.append([[line.split("\t") for line in b.splitlines()] for b in out.strip("\n").split("\n\n")])
    plain, quantised = outputs
    source = [[line.split("\t") for line in b.splitlines()] for b in test_file.read_text().strip("\n").split("\n\n")]
    assert [len(b) for b in quantised] == [len(b) for b in plain] == [len(b) for b in source]
    assert all(row[:2] == src and len(row) == 3 for b, sb in zip(quantised, source) for row, src in zip(b, sb))
    code, out, err = run_cli(["predict", "--model", str(dft_model), "--quantize", "--text", "Hinton uses Python."],
                             monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["text"] == "Hinton uses Python."


def test_load_model_quantize_uses_int8_linear_layers(dft_model: Path, data_root: Path) -> None:
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    plain = xner.load_model(dft_model)
    fast = xner.load_model(dft_model, quantize=True)
    kinds = {type(m) for m in fast.tagger._predictor().modules()}
    assert DynamicLinear in kinds
    assert DynamicLinear not in {type(m) for m in plain.tagger._predictor().modules()}
    tokens = [["Hinton", "uses", "Python", "."], [], ["backpropagation"] * 40]
    assert [len(t) for t in fast.predict_tokens(tokens)] == [4, 0, 40]
    assert all(t in fast.labels for row in fast.predict_tokens(tokens) for t in row)
    # the folder keeps its fp32 weights: loading it again without quantize is unchanged
    assert xner.load_model(dft_model).predict_tokens(tokens) == plain.predict_tokens(tokens)


def test_evaluate_quantize_reports_it(dft_model: Path, data_root: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    code, _, err = run_cli(["evaluate", "--model", str(dft_model), "--domain", "ai", "--data", str(data_root),
                            "--quantize", "--json", str(report), "--quiet"], monkeypatch, capsys)
    assert code == 0, err
    data = json.loads(report.read_text())
    assert data["source"]["quantized"] is True and 0.0 <= data["entity"]["f1"] <= 1.0
    code, _, err = run_cli(["evaluate", str(data_root / "ai" / "test.txt"), "--quantize"], monkeypatch, capsys)
    assert code == 2 and "--quantize cannot be used with FILE" in err and err.count("\n") == 1


def test_init_model_fine_tunes_a_saved_encoder_model(dft_model: Path, data_root: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The saved model's backbone applies (no --backbone given), its labels keep their ids and the
    new domain's types are added after them."""
    out = tmp_path / "from-dft"
    code, stdout, err = run_cli(["train", "--domain", "conll2003", "--init-model", str(dft_model), "--data",
                                 str(data_root), "--out", str(out), "--epochs", "1", "--threads", "1", "--quiet"],
                                monkeypatch, capsys)
    assert code == 0, err
    assert stdout.startswith("conll2003 ptf (raw labels): dev F1")
    meta = json.loads((out / "meta.json").read_text())
    old = json.loads((dft_model / "meta.json").read_text())["labels"]
    assert meta["backbone"] == "encoder"
    assert meta["labels"][: len(old)] == old
    assert {"B-location", "B-organisation", "B-misc"} <= set(meta["labels"][len(old):])
