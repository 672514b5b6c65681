"""`xner train --backbone encoder` (recommended settings, --encoder), and int8 prediction
(`predict --quantize`, `evaluate --quantize`, `load_model(quantize=True)`) on a tiny random BERT."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from _tiny_models import save_tiny_bert
from test_cli_train import SOURCE_ENTS, TARGET_ENTS, run_cli, run_in_fixture, run_toml, write_domains
from test_encoder_tagger import VOCAB

import xner
from xner.cli.train_cmd import _flag_names, shorthand_settings
from xner.errors import ConfigError
from xner.models.base import TrainConfig
from xner.models.encoder import recommended_train_config
from xner.models.registry import train_defaults
from xner.run.config import RunConfig
from xner.run.load import build_config, validate

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
    root = write_domains(tmp_path_factory.mktemp("data"),
                         [("conll2003", SOURCE_ENTS, (16, 4, 4)), ("ai", TARGET_ENTS, (12, 6, 6))], seed=0)
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

def from_flags(**flags: Any) -> RunConfig:
    """The RunConfig that `xner train --domain ai` plus ``flags`` (shorthands by parameter name) builds."""
    flags = {"domain": "ai", **flags}
    return build_config(None, shorthand_settings(flags), (), flag_names=_flag_names(flags))


def test_bilstm_defaults_are_the_registrys() -> None:
    """The published tables' settings (target 60 epochs, patience 10) and min_epochs 10, which only
    delays the stop of a run whose best epoch is under 10 (no published run's was): one place, the registry."""
    cfg = validate({"data": {"target": "ai"}, "seed": 3, "runtime": {"threads": 1}})
    target, source = cfg.target_train(), cfg.source_train()
    assert (target.epochs, target.patience, target.batch_size, target.lr) == (60, 10, 8, TrainConfig().lr)
    assert (source.epochs, source.patience, source.batch_size) == (30, 5, TrainConfig().batch_size)
    assert target.optimizer == source.optimizer == "adam" and target.seed == source.seed == 3
    assert target.threads == source.threads == 1
    assert train_defaults("bilstm_crf", "target") == {"epochs": 60, "patience": 10, "batch_size": 8, "min_epochs": 10}
    assert train_defaults("bilstm_crf", "source") == {"epochs": 30, "patience": 5, "batch_size": 32}


def test_train_help_states_the_registry_defaults(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one option a line
    code, out, _ = run_cli(["train", "--help"], monkeypatch, capsys)
    lines = {line.split()[1]: line for line in out.splitlines() if line.strip("│ ").startswith("--")}
    assert code == 0
    for flag, phase, key in (("--epochs", "target", "epochs"), ("--patience", "target", "patience"),
                             ("--source-epochs", "source", "epochs"), ("--source-patience", "source", "patience"),
                             ("--batch-size", "target", "batch_size")):
        ours, theirs = train_defaults("bilstm_crf", phase)[key], train_defaults("encoder", phase)[key]
        assert f"(default {ours}, encoder {theirs})" in lines[flag], lines[flag]


def encoder_source(**overrides: Any) -> TrainConfig:
    """The encoder's pre-training (and jt) settings: the registry's source defaults, then ``overrides``."""
    return TrainConfig(**{**train_defaults("encoder", "source"), **overrides})


def test_encoder_defaults_are_the_recommended_ones_and_options_win() -> None:
    """The published encoder table's settings: fine-tuning up to 20 epochs (patience 5), 3 of pre-training."""
    cfg = validate({"data": {"target": "ai"}, "backbone": {"name": "encoder"}, "runtime": {"threads": 1}})
    target, source = cfg.target_train(), cfg.source_train()
    assert target == recommended_train_config(threads=1) and source == encoder_source(threads=1)
    for phase in (target, source):
        assert phase.lr == 5e-5 and phase.optimizer == "adamw" and phase.batch_size == 16
        assert (phase.weight_decay, phase.clip, phase.unk_replace) == (0.01, 1.0, 0.0)
    assert (target.patience, target.epochs) == (5, 20) and (source.patience, source.epochs) == (3, 3)
    cfg = from_flags(backbone="encoder", epochs=4, patience=2, batch_size=4, source_epochs=1, lr=1e-4, o_weight=0.5)
    assert cfg.target_train() == recommended_train_config(epochs=4, patience=2, batch_size=4, lr=1e-4, o_weight=0.5)
    assert cfg.source_train() == encoder_source(epochs=1, lr=1e-4, o_weight=0.5)
    # a phase's own keys in a file win over the backbone's defaults too
    cfg = validate({"data": {"target": "ai"}, "backbone": {"name": "encoder"}, "pretrain": {"patience": 7}})
    assert cfg.source_train() == encoder_source(patience=7) and cfg.target_train().patience == 5


@pytest.mark.parametrize("options, message", [
    ({"epochs": 0}, "--epochs (finetune.epochs): Input should be greater than or equal to 1"),
    ({"source_patience": 0}, "--source-patience (pretrain.patience): Input should be greater than or equal to 1"),
    ({"lr": -1.0}, "--lr (pretrain.lr): Input should be greater than 0"),
])
def test_bad_schedule_values_name_their_option(options: dict[str, float], message: str) -> None:
    for backbone in ("bilstm_crf", "encoder"):
        with pytest.raises(ConfigError) as err:
            from_flags(backbone=backbone, **options)
        assert message in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------------------ train

def saved_run(folder: Path) -> RunConfig:
    """The model folder's run.toml read back as a RunConfig."""
    return validate(run_toml(folder))


def test_dft_uses_the_recommended_settings_and_the_given_encoder(dft_model: Path, tiny_bert: Path) -> None:
    metrics = json.loads((dft_model / "metrics.json").read_text())
    run = run_toml(dft_model)
    assert run["backbone"]["name"] == "encoder" and metrics["mode"] == run["mode"] == "dft"
    assert saved_run(dft_model).target_train() == recommended_train_config(threads=1)
    assert run["finetune"]["optimizer"] == "adamw" and run["finetune"]["lr"] == 5e-5  # spelt out in the file
    settings = run["backbone"]["settings"]  # stored resolved: every default spelt out
    assert {k: settings[k] for k in ("max_length", "window_overlap", "encoder")} == {
        "max_length": 32, "window_overlap": 8, "encoder": str(tiny_bert)}
    meta = json.loads((dft_model / "meta.json").read_text())
    assert meta["backbone"] == "encoder" and meta["config"]["encoder"] == str(tiny_bert)
    assert 1 <= metrics["fit"]["epochs_run"] <= 20 and metrics["test"]["n_gold"] == 6


@pytest.mark.parametrize("mode", ["ptf", "jt"])
def test_pretraining_and_jt_use_the_encoder_settings_too(mode: str, data_root: Path, tiny_bert: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # jt trains with [pretrain]: its [finetune] gets 2 epochs, so a jt on the wrong phase shows in epochs_run
    epochs = "1" if mode == "ptf" else "2"
    args = encoder_args(data_root, tmp_path / mode, tiny_bert, "--mode", mode, "--epochs", epochs,
                        "--source-epochs", "1", "--lr", "1e-4", "--target-repeat", "1")
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith(f"ai {mode} (raw labels): dev F1")
    cfg = saved_run(tmp_path / mode)
    source = encoder_source(epochs=1, lr=1e-4, threads=1)
    assert cfg.source_train() == source  # the encoder's settings, not TrainConfig's (Adam, 2e-3)
    assert cfg.finetune.train_config(0, 1) == recommended_train_config(epochs=int(epochs), lr=1e-4, threads=1)
    if mode == "ptf":  # pre-training on the source schedule
        (pretrained,) = (data_root / "cache").glob("*/pretrain.json")
        assert json.loads(pretrained.read_text())["train_config"] == source.model_dump()
    else:  # jt: one epoch of the source schedule, not the target's 2
        assert json.loads((tmp_path / mode / "metrics.json").read_text())["fit"]["epochs_run"] == 1


def test_encoder_option_needs_the_encoder_backbone(data_root: Path, tiny_bert: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    args = encoder_args(data_root, tmp_path / "m", tiny_bert)
    args[args.index("encoder")] = "bilstm_crf"
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and err == ("error: --model-config/--encoder (backbone.settings.max_length): unknown setting "
                                 "(for the bilstm_crf backbone)\n")
    assert not (tmp_path / "m").exists()
    args.remove("--model-config")
    args.remove(str(data_root / "encoder.json"))
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and err == "error: --encoder (backbone.settings.encoder): unknown setting " \
        "(for the bilstm_crf backbone)\n"
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("case", ["missing_dir", "relative_missing", "not_a_model_dir", "unknown_hub_name"])
def test_unloadable_encoder_is_one_line_exit_2(case: str, data_root: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    name: str = {"missing_dir": str(tmp_path / "nope"), "relative_missing": "./no/such/encoder",
                 "not_a_model_dir": str(tmp_path), "unknown_hub_name": "no-such-org/no-such-model"}[case]
    code, out, err = run_cli(encoder_args(data_root, tmp_path / "m", name), monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert ("not in the Hugging Face cache" in err) == (case == "unknown_hub_name")  # tests run offline
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
