"""`xner train` and `xner predict` end to end on tiny generated data with a tiny BiLSTM-CRF."""

from __future__ import annotations

import json
import random
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import xner.api as api
from xner.cli import main
from xner.cli.predict_cmd import _looks_like_conll
from xner.cli.train_cmd import _progress

TINY = {"word_dim": 8, "casing_dim": 2, "char_dim": 4, "char_filters": 4, "hidden": 8}
SOURCE_ENTS = [("John Smith", "person"), ("Paris", "location"), ("IBM", "organisation"), ("Euro", "misc")]
TARGET_ENTS = [("Python", "programlang"), ("backpropagation", "algorithm"), ("Hinton", "person")]
FILLER = "the model uses a new method for data in this work".split()


def _sentences(ents: list[tuple[str, str]], n: int, rng: random.Random) -> str:
    lines = []
    for _ in range(n):
        words = [(w, "O") for w in rng.sample(FILLER, 4)]
        text, typ = rng.choice(ents)
        span = [(w, ("B-" if i == 0 else "I-") + typ) for i, w in enumerate(text.split())]
        pos = rng.randrange(len(words) + 1)
        lines.append("\n".join(f"{w}\t{t}" for w, t in words[:pos] + span + words[pos:]))
    return "\n\n".join(lines) + "\n"


def write_domains(root: Path, domains: list[tuple[str, list[tuple[str, str]], tuple[int, int, int]]],
                  seed: int) -> Path:
    """Domain folders of generated sentences under ``root``: (name, entities, train/dev/test sizes),
    drawn in that order from one seeded generator."""
    rng = random.Random(seed)
    for name, ents, sizes in domains:
        (root / name).mkdir()
        for split, n in zip(("train", "dev", "test"), sizes):
            (root / name / f"{split}.txt").write_text(_sentences(ents, n, rng))
    return root


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_domains(tmp_path_factory.mktemp("data"),
                         [("conll2003", SOURCE_ENTS, (40, 10, 10)), ("ai", TARGET_ENTS, (12, 8, 8))], seed=0)
    (root / "tiny.json").write_text(json.dumps(TINY))
    return root


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["xner", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


class _NoCapture:
    """run_cli wants capsys; a module fixture has none, so output goes to the terminal."""

    def readouterr(self) -> tuple[str, str]:
        return "", ""


def run_in_fixture(args: list[str]) -> None:
    """Run the CLI from a module-scoped fixture (no monkeypatch or capsys there); it must succeed."""
    mp = pytest.MonkeyPatch()
    try:
        code, _, err = run_cli(args, mp, _NoCapture())  # type: ignore[arg-type]
    finally:
        mp.undo()
    assert code == 0, err


def run_toml(folder: Path) -> dict[str, Any]:
    """The resolved config a model folder records (``run.toml``)."""
    return tomllib.loads((folder / "run.toml").read_text(encoding="utf-8"))


def train_args(root: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--domain", "ai", "--data", str(root), "--out", str(out), "--epochs", "2", "--source-epochs", "2",
            "--model-config", str(root / "tiny.json"), "--threads", "1", "--cache", str(root / "cache"), *extra]


@pytest.fixture(scope="module")
def ptf_model(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "ptf"
    mp = pytest.MonkeyPatch()
    mp.setattr(sys, "argv", ["xner", *train_args(data_root, out)])
    try:
        main()
    finally:
        mp.undo()
    return out


def test_train_ptf_writes_model_log_and_metrics(ptf_model: Path, data_root: Path) -> None:
    assert {p.name for p in ptf_model.iterdir()} >= {"meta.json", "model.safetensors", "train_log.jsonl",
                                                     "metrics.json", "run.toml"}
    meta = json.loads((ptf_model / "meta.json").read_text())
    # Source labels first (their ids unchanged), then the target-only types appended.
    assert meta["labels"][:9] == ["O", "B-location", "I-location", "B-misc", "I-misc",
                                  "B-organisation", "I-organisation", "B-person", "I-person"]
    assert meta["labels"][9:] == ["B-algorithm", "I-algorithm", "B-programlang", "I-programlang"]
    assert meta["label_mode"] == "raw"
    metrics = json.loads((ptf_model / "metrics.json").read_text())
    assert metrics["mode"] == "ptf" and metrics["target"] == "ai" and re.fullmatch(r"[0-9a-f]{64}", metrics["run_id"])
    run = run_toml(ptf_model)  # the settings live in the resolved config, not in metrics.json
    assert run["mode"] == "ptf" and run["data"]["target"] == "ai" and run["data"]["source"] == "conll2003"
    assert run["data"]["label_init"] == "map" and run["data"]["label_mode"] == "raw"  # the defaults
    assert (run["finetune"]["epochs"], run["pretrain"]["epochs"]) == (2, 2)
    assert run["backbone"]["settings"]["hidden"] == TINY["hidden"] and "train_config" not in metrics
    assert not (ptf_model / api.LABEL_MAP_FILE).exists()  # raw labels: nothing to normalise
    assert 0.0 <= metrics["test"]["f1"] <= 1.0 and metrics["test"]["n_gold"] == 8
    assert metrics["fit"]["epochs_run"] <= 2
    assert len((ptf_model / "train_log.jsonl").read_text().splitlines()) == metrics["fit"]["epochs_run"]
    assert len(list((data_root / "cache").glob("*/pretrain.json"))) == 1


def test_second_ptf_run_reuses_the_cached_pretraining(
    ptf_model: Path, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (cached,) = (data_root / "cache").glob("*/pretrain.json")
    stamp = cached.stat().st_mtime_ns
    code, out, err = run_cli(train_args(data_root, tmp_path / "again"), monkeypatch, capsys)
    assert code == 0, err
    assert cached.stat().st_mtime_ns == stamp
    assert len(list((data_root / "cache").glob("*/pretrain.json"))) == 1
    assert "ai ptf (raw labels): dev F1 " in out and "test F1 " in out


@pytest.mark.parametrize("mode", ["dft", "jt"])
def test_train_dft_and_jt(mode: str, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    # jt trains with [pretrain] (the source schedule), dft with [finetune]: the phase it uses gets
    # 1 epoch and the other 3, so a run on the wrong phase shows in epochs_run (patience 10 > 3).
    epochs = ["--epochs", "3", "--source-epochs", "1"] if mode == "jt" else ["--epochs", "1", "--source-epochs", "3"]
    code, out, err = run_cli(train_args(data_root, tmp_path / mode, "--mode", mode, *epochs,
                                        "--target-repeat", "2", "--quiet"), monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith(f"ai {mode} (raw labels): dev F1") and out.count("\n") == 1  # quiet: one line
    labels = json.loads((tmp_path / mode / "meta.json").read_text())["labels"]
    assert ("B-organisation" in labels) == (mode == "jt")  # only JT sees the source
    metrics = json.loads((tmp_path / mode / "metrics.json").read_text())
    assert metrics["mode"] == mode and metrics["fit"]["epochs_run"] == 1
    run = run_toml(tmp_path / mode)
    assert run["mode"] == mode and run["target_repeat"] == 2
    phase = run["pretrain"] if mode == "jt" else run["finetune"]
    assert phase["epochs"] == 1 and phase["batch_size"] == (32 if mode == "jt" else 8)  # source 32, target 8
    assert phase["lr_schedule"] == "constant"  # a resolved config spells out every default


def test_train_linear_schedule_is_recorded(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(train_args(data_root, tmp_path / "lin", "--mode", "dft", "--epochs", "2", "--lr-schedule",
                                      "linear", "--warmup", "0.2", "--quiet"), monkeypatch, capsys)
    assert code == 0, err
    run = run_toml(tmp_path / "lin")
    assert run["finetune"]["lr_schedule"] == "linear" and run["finetune"]["warmup"] == 0.2
    assert run["pretrain"]["lr_schedule"] == "linear" and run["pretrain"]["warmup"] == 0.2  # every phase


def test_train_normalised_records_mode_and_map(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    lmap = tmp_path / "map.toml"
    lmap.write_text('[map]\nperson = "PER"\nlocation = "LOC"\norganisation = "ORG"\nmisc = "MISC"\n'
                    'programlang = "MISC"\nalgorithm = "MISC"\n')
    code, _, err = run_cli(train_args(data_root, tmp_path / "norm", "--labels", "normalised", "--label-map",
                                      str(lmap), "--epochs", "1"), monkeypatch, capsys)
    assert code == 0, err
    meta = json.loads((tmp_path / "norm" / "meta.json").read_text())
    assert meta["label_mode"] == "normalised"
    run = run_toml(tmp_path / "norm")
    assert run["data"]["label_mode"] == "normalised" and Path(run["data"]["label_map"]) == lmap.resolve()
    assert {t[2:] for t in meta["labels"][1:]} == {"PER", "LOC", "ORG", "MISC"}
    assert (tmp_path / "norm" / api.LABEL_MAP_FILE).is_file()
    model = api.load_model(tmp_path / "norm")
    assert model.label_mode == "normalised"
    gold, _ = api.evaluate_model(tmp_path / "norm", "ai", "test", data_root)
    assert {t[2:] for s in gold for t in s.tags if t != "O"} <= {"PER", "MISC"}


def test_train_label_init_records_it_and_writes_no_label_map(
    ptf_model: Path, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cached = set((data_root / "cache").glob("*/pretrain.json"))
    code, _, err = run_cli(train_args(data_root, tmp_path / "mapped", "--label-init", "fresh", "--quiet"),
                           monkeypatch, capsys)
    assert code == 0, err
    run = run_toml(tmp_path / "mapped")
    assert run["data"]["label_init"] == "fresh" and run["data"]["label_mode"] == "raw"
    assert json.loads((tmp_path / "mapped" / "metrics.json").read_text())["run_id"] != \
        json.loads((ptf_model / "metrics.json").read_text())["run_id"]  # label_init is part of the run
    assert not (tmp_path / "mapped" / api.LABEL_MAP_FILE).exists()  # raw labels: nothing to normalise
    assert set((data_root / "cache").glob("*/pretrain.json")) == cached  # the same pre-training


@pytest.mark.parametrize("args, message", [
    (["--mode", "xx"], "error: --mode (mode): Input should be 'ptf', 'dft' or 'jt'"),
    (["--labels", "generic"], "error: --labels (data.label_mode): Input should be 'raw' or 'normalised'"),
    (["--label-map", "x.toml", "--label-init", "fresh"],
     "data.label_map is read only with label_mode normalised or (ptf) label_init map"),
    (["--label-map", "x.toml"], "x.toml: label map file not found"),
    (["--epochs", "0"], "error: --epochs (finetune.epochs): Input should be greater than or equal to 1"),
    (["--source-epochs", "0"], "error: --source-epochs (pretrain.epochs): Input should be greater than or equal to 1"),
    (["--backbone", "crf"], "error: --backbone (backbone.name): Input should be 'bilstm_crf' or 'encoder'"),
    (["--label-init", "copy"], "error: --label-init (data.label_init): Input should be 'fresh' or 'map'"),
    (["--lr-schedule", "cosine"],
     "error: --lr-schedule (pretrain.lr_schedule): Input should be 'constant' or 'linear'"),
    (["--lr-schedule", "linear", "--warmup", "1.5"], "error: --warmup (pretrain.warmup): Input should be less than 1"),
    (["--source-limit", "0"], "error: --source-limit (data.source_subset): Input should be greater than or equal to 1"),
])
def test_train_bad_options_are_one_line_errors(args: list[str], message: str, data_root: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(train_args(data_root, tmp_path / "m", *args), monkeypatch, capsys)
    assert code == 2 and message in err and err.count("\n") == 1 and out == "", err
    assert not (tmp_path / "m").exists()


def test_train_unknown_domain_and_unsafe_out(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    args = train_args(data_root, tmp_path / "m")
    args[args.index("ai")] = "music"
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and "music" in err and err.count("\n") == 1
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    code, _, err = run_cli(train_args(data_root, tmp_path / "precious"), monkeypatch, capsys)
    assert code == 2 and "refusing to overwrite" in err
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


def test_predict_conll_adds_a_column_matching_the_api(ptf_model: Path, data_root: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    test_file = data_root / "ai" / "test.txt"
    code, out, err = run_cli(["predict", "--model", str(ptf_model), str(test_file)], monkeypatch, capsys)
    assert code == 0, err
    blocks = [b.splitlines() for b in out.strip("\n").split("\n\n")]
    source_blocks = [b.splitlines() for b in test_file.read_text().strip("\n").split("\n\n")]
    assert [len(b) for b in blocks] == [len(b) for b in source_blocks]
    model = api.load_model(ptf_model)
    expected = model.predict_tokens([[line.split("\t")[0] for line in b] for b in source_blocks])
    assert [[line.split("\t")[2] for line in b] for b in blocks] == expected
    assert all(line.split("\t")[:2] == src.split("\t")
               for b, sb in zip(blocks, source_blocks) for line, src in zip(b, sb))
    code, out, err = run_cli(["predict", "--model", str(ptf_model), str(test_file), "--format", "json",
                              "--out", str(tmp_path / "p.json")], monkeypatch, capsys)
    assert code == 0 and out == ""
    docs = json.loads((tmp_path / "p.json").read_text())
    assert [d["tags"] for d in docs] == expected
    for d in docs:
        for e in d["entities"]:
            assert e["text"] == " ".join(d["tokens"][e["token_start"]:e["token_end"]])


def test_predict_raw_text_json_and_conll(ptf_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    text = "Hinton uses backpropagation in Python. The model uses Paris data for Müller!\n"
    raw = tmp_path / "doc.txt"
    raw.write_text(text, encoding="utf-8")
    code, out, err = run_cli(["predict", "--model", str(ptf_model), str(raw), "--scores"], monkeypatch, capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["text"] == text
    expected = api.load_model(ptf_model).predict(text)[0]
    assert [(e["type"], e["start"], e["end"]) for e in doc["entities"]] == [(e.type, e.start, e.end) for e in expected]
    for e in doc["entities"]:
        assert text[e["start"]:e["end"]] == e["text"] and 0.0 <= e["score"] <= 1.0
    code, out, err = run_cli(["predict", "--model", str(ptf_model), "--text", text, "--format", "conll"],
                             monkeypatch, capsys)
    assert code == 0, err
    sentences = [b.splitlines() for b in out.strip("\n").split("\n\n")]
    assert len(sentences) == 2
    assert [line.split("\t")[0] for line in sentences[0]][:3] == ["Hinton", "uses", "backpropagation"]


@pytest.mark.parametrize("case", ["no_model", "corrupt_weights", "missing_input", "binary_input", "both_inputs",
                                  "bad_format"])
def test_predict_errors_are_one_line_exit_2(case: str, ptf_model: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    model, inputs = str(ptf_model), ["--text", "Some text."]
    if case == "no_model":
        model = str(tmp_path / "missing")
    elif case == "corrupt_weights":
        broken = tmp_path / "broken"
        broken.mkdir()
        for name in ("meta.json", "model.safetensors"):
            (broken / name).write_bytes((ptf_model / name).read_bytes())
        (broken / "model.safetensors").write_bytes(b"\x00garbage" * 10)
        model = str(broken)
    elif case == "missing_input":
        inputs = [str(tmp_path / "nope.txt")]
    elif case == "binary_input":
        (tmp_path / "bin.txt").write_bytes(b"abc\x00\x01\x02")
        inputs = [str(tmp_path / "bin.txt")]
    elif case == "both_inputs":
        inputs = [str(tmp_path / "x.txt"), "--text", "hi"]
    else:
        inputs = ["--text", "hi", "--format", "xml"]
    code, out, err = run_cli(["predict", "--model", model, *inputs], monkeypatch, capsys)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_predict_quantize_on_a_bilstm_model_is_a_one_line_error(ptf_model: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["predict", "--model", str(ptf_model), "--quantize", "--text", "Hinton."],
                             monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err == f"error: {ptf_model}: quantize works for encoder models only, not a bilstm_crf model\n"


def test_conll_sniffing() -> None:
    assert _looks_like_conll(Path("a.txt"), "EU\tB-ORG\nrejects\tO\n\n-DOCSTART-\tO\nx\tI-MISC\n")
    assert _looks_like_conll(Path("a.conll"), "just words\n")
    assert not _looks_like_conll(Path("a.txt"), "The EU rejects German calls.\nAnother line O\n")
    assert not _looks_like_conll(Path("a.txt"), "")


def test_progress_bar_callback_runs() -> None:
    with _progress(True) as make:
        update = make("phase")
        update(1, 2, 0.5, None)
        update(2, 2, 0.25, 0.5)
    with _progress(False) as make:
        assert make("phase") is None
