"""--device and --precision on every command that runs a model (predict, evaluate, select uncertain,
annotate export/push, study run), on this CPU-only machine: cpu and auto work and say where they
ran; a CUDA device is one line and exit 2 before any model or data is read."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY = {"word_dim": 8, "casing_dim": 2, "char_dim": 4, "char_filters": 4, "hidden": 8}
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    from xner.cli import main

    monkeypatch.setattr(sys, "argv", ["xner", *args])
    try:
        main()
        code: object = 0
    except SystemExit as done:
        code = done.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A data root with two domains (toy, and pool for select) and a tiny untrained BiLSTM-CRF on it."""
    from xner.data.conll import read_conll
    from xner.labels.space import LabelSpace
    from xner.models.bilstm_crf import BiLSTMCRFTagger

    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("toy")
    for name in ("toy", "pool"):
        shutil.copytree(FIXTURES / "annotate" / "toy", base / "data" / name)
    train = read_conll(base / "data" / "toy" / "train.txt", "toy")
    tagger = BiLSTMCRFTagger.create(train, LabelSpace.from_sentences(train), TINY, seed=0)
    tagger.label_mode = "raw"  # type: ignore[attr-defined]
    tagger.save(base / "model")
    return base / "data", base / "model"


def commands(model: Path, data: Path, out: Path) -> dict[str, list[str]]:
    m, d, o = str(model), str(data), str(out)
    return {
        "predict": ["predict", "--model", m, str(data / "toy" / "test.txt")],
        "evaluate": ["evaluate", "--model", m, "--domain", "toy", "--data", d],
        "select uncertain": ["select", "uncertain", "--model", m, "--target", "toy", "--budget", "1", "--out",
                             str(out / "unc.txt"), "--data", d, "--domains", "pool"],
        "annotate export": ["annotate", "export", "--model", m, "--domain", "toy", "--out", o, "--data", d,
                            "--threshold", "0.01"],
        "annotate push": ["annotate", "push", "--model", m, "--domain", "toy", "--url", "http://127.0.0.1:9",
                          "--token", "t", "--data", d],
        "select target": ["select", "target", "--pretrained", m, "--data", d, "--candidates", "toy", "--epochs", "1"],
    }


@no_cuda
@pytest.mark.parametrize("device", ["cuda", "cuda:3"])
@pytest.mark.parametrize("command", ["predict", "evaluate", "select uncertain", "annotate export", "annotate push",
                                     "select target", "study run"])
def test_a_missing_device_is_one_line_before_anything_is_read(command: str, device: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    # Neither the model nor the data exists: the device error coming first proves nothing was read.
    missing = tmp_path / "missing"
    if command == "study run":
        config = tmp_path / "study.toml"
        config.write_text(f'name = "s"\ndata_root = "{missing}"\n')
        args = ["study", "run", str(config), "--out", str(tmp_path / "s")]
    else:
        args = commands(missing / "model", missing, tmp_path / "out")[command]
    code, out, err = run_cli([*args, "--device", device], monkeypatch, capsys)
    assert code == 2 and out == "", (out, err)
    assert err.startswith(f"error: device {device}: CUDA is not available here") and err.count("\n") == 1, err


@pytest.mark.parametrize("device", ["cpu", "auto"])
@pytest.mark.parametrize("command", ["predict", "evaluate", "select uncertain", "annotate export", "select target"])
def test_cpu_and_auto_run_here_and_say_so(command: str, device: str, toy: tuple[Path, Path], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data, model = toy
    args = [*commands(model, data, tmp_path / "out")[command], "--device", device]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    expected = "ran on cpu, fp32\n" if device == "cpu" or not torch.cuda.is_available() else "ran on cuda:0"
    assert err.endswith(expected) and err.count("ran on") == 1, err
    code, out, err = run_cli([*args, "--precision", "fp32", "-q"], monkeypatch, capsys)
    assert code == 0 and "ran on" not in err, err


def test_predict_output_is_the_same_on_cpu_and_auto(toy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data, model = toy
    args = commands(model, data, data)["predict"]
    outputs = [run_cli([*args, "--device", d, "-q"], monkeypatch, capsys)[1] for d in ("cpu", "auto")]
    assert outputs[0] == outputs[1] and outputs[0].count("\t") > 0


@pytest.mark.parametrize("option, value, message", [("--precision", "fp8", "precision 'fp8': expected auto"),
                                                    ("--device", "gpu", "device 'gpu': expected auto, cpu")])
def test_a_bad_name_is_one_line(option: str, value: str, message: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    args = commands(tmp_path / "missing", tmp_path, tmp_path)["predict"]
    code, _, err = run_cli([*args, option, value], monkeypatch, capsys)
    assert code == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1, err


def test_api_functions_take_a_device(toy: tuple[Path, Path], tmp_path: Path) -> None:
    import xner.api as api
    from xner.errors import ConfigError

    data, model = toy
    assert api.resolve_runtime("cpu", "auto") == ("cpu", "fp32")
    assert api.resolve_runtime("auto", "bf16", quantize=True) == ("cpu", "bf16")
    gold, pred = api.evaluate_model(model, "toy", "test", data, device="auto", precision="fp32")
    assert len(gold) == len(pred)
    summary, n = api.export_review(model, "toy", tmp_path / "r", data, threshold=0.01, device="cpu")
    assert n > 0 and summary.sentences >= 0
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="device cuda"):
            api.select_uncertain_pool(tmp_path / "no-model", "toy", 1, tmp_path / "u.txt", tmp_path / "no-data",
                                      device="cuda")
        with pytest.raises(ConfigError, match="device cuda"):
            api.push_review(tmp_path / "no-model", "toy", "http://127.0.0.1:9", "t", data_root=tmp_path,
                            device="cuda")
