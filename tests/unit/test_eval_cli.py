"""``xner evaluate``: FILE mode end to end, --model mode with a fake api, usage errors."""

from __future__ import annotations

import csv
import json
import sys
import types
from pathlib import Path

import pytest

from xner.cli import main
from xner.data.corpus import Sentence

EVAL = Path(__file__).resolve().parents[1] / "fixtures" / "eval"
PRED = EVAL / "predictions.txt"

# Hand-computed for predictions.txt (gold | predicted):
#   s0: Alice B-PER|B-PER, Paris B-LOC|B-ORG;  s1: Bob Smith B-PER I-PER|I-PER I-PER, Rome B-LOC|B-LOC
# default mode: gold 4, pred 4 (I-PER I-PER opens PER), correct 3 (Alice, Bob Smith, Rome)
#   -> P = R = F1 = 3/4.
# strict IOB2: pred 3 (the I- span is no entity), correct 2 (Alice, Rome)
#   -> P = 2/3, R = 2/4, F1 = 2*(2/3)*(1/2)/(2/3+1/2) = 4/7.
# tokens: 9, wrong: Paris (B-LOC->B-ORG), Bob (B-PER->I-PER) -> accuracy 7/9.


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """The real entry point (``xner.cli.main``) in-process; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["xner", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_file_mode_prints_report_and_writes_json_and_confusion(tmp_path: Path, capsys, monkeypatch) -> None:
    out_json, conf_dir = tmp_path / "r.json", tmp_path / "conf"
    args = ["evaluate", str(PRED), "--json", str(out_json), "--confusion", str(conf_dir)]
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    assert "Entity-level scores" in out and "strict IOB2" in out and "0.7500" in out and "0.5714" in out
    report = json.loads(out_json.read_text(encoding="utf-8"))
    ent = report["entity"]
    assert (ent["precision"], ent["recall"], ent["f1"]) == pytest.approx((0.75, 0.75, 0.75))
    assert (ent["strict_precision"], ent["strict_recall"], ent["strict_f1"]) == pytest.approx((2 / 3, 0.5, 4 / 7))
    assert report["token"]["accuracy"] == pytest.approx(7 / 9)
    assert report["source"] == {"file": str(PRED), "label_mode": "raw"}
    rows = list(csv.reader((conf_dir / "confusion.csv").open(encoding="utf-8")))
    header, body = rows[0], {r[0]: dict(zip(rows[0][1:], map(int, r[1:]))) for r in rows[1:]}
    assert header == ["gold\\pred", "O", "B-LOC", "B-ORG", "B-PER", "I-PER"]
    assert body["B-LOC"] == {"O": 0, "B-LOC": 1, "B-ORG": 1, "B-PER": 0, "I-PER": 0}
    assert body["B-PER"]["B-PER"] == 1 and body["B-PER"]["I-PER"] == 1
    assert (conf_dir / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_label_mode_normalised_maps_gold_and_predictions(tmp_path: Path, capsys, monkeypatch) -> None:
    # gold scientist/university vs predicted person/organisation: raw F1 0 (types differ),
    # normalised both sides are PER + ORG on the same spans -> F1 1.
    raw_json, norm_json = tmp_path / "raw.json", tmp_path / "norm.json"
    src = str(EVAL / "crossner_raw.txt")
    assert run_cli(["evaluate", src, "-q", "--json", str(raw_json)], capsys, monkeypatch)[0] == 0
    args = ["evaluate", src, "-q", "--label-mode", "normalised", "--json", str(norm_json)]
    assert run_cli(args, capsys, monkeypatch)[0] == 0
    assert json.loads(raw_json.read_text())["entity"]["f1"] == 0.0
    norm = json.loads(norm_json.read_text())
    assert norm["entity"]["f1"] == 1.0 and set(norm["entity"]["per_type"]) == {"ORG", "PER"}


def test_quiet_prints_nothing(capsys, monkeypatch) -> None:
    code, out, err = run_cli(["evaluate", str(PRED), "--quiet"], capsys, monkeypatch)
    assert (code, out, err) == (0, "", "")


def test_model_mode_calls_api_evaluate_model(tmp_path: Path, capsys, monkeypatch) -> None:
    calls: list[tuple] = []

    def fake_evaluate_model(model_dir, domain, split, data_root=None, **runtime):  # noqa: ANN001, ANN003, ANN202
        calls.append((model_dir, domain, split, data_root, runtime))
        gold = [Sentence(("Ada", "Lovelace"), ("B-PER", "I-PER"), domain=domain)]
        return gold, [["B-PER", "O"]]  # boundary error: P = R = F1 = 0

    monkeypatch.setitem(sys.modules, "xner.api", types.SimpleNamespace(
        evaluate_model=fake_evaluate_model, resolve_runtime=lambda device, precision, quantize: ("cpu", "fp32")))
    out_json = tmp_path / "m.json"
    args = ["evaluate", "--model", str(tmp_path / "m"), "--domain", "ai", "--data", str(tmp_path),
            "--json", str(out_json)]
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    runtime = {"quantize": False, "device": "auto", "precision": "auto"}
    assert calls == [(tmp_path / "m", "ai", "test", tmp_path, runtime)]
    report = json.loads(out_json.read_text())
    assert report["source"] == {"model": str(tmp_path / "m"), "domain": "ai", "split": "test"}
    assert report["entity"]["f1"] == 0.0 and report["entity"]["n_gold"] == 1 and report["entity"]["n_pred"] == 1
    assert "Entity-level scores" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "give exactly one of FILE or --model DIR"),
        ([str(PRED), "--model", "m"], "give exactly one of FILE or --model DIR"),
        ([str(PRED), "--domain", "ai", "--split", "dev"], "--domain, --split cannot be used with FILE"),
        (["--model", "m", "--domain", "ai", "--scheme", "iob1"], "--scheme cannot be used with --model"),
        (["--model", "m"], "--model needs --domain NAME"),
        (["--model", "m", "--domain", "ai", "--split", "val"], "--split must be one of train, dev, test"),
        ([str(PRED), "--label-map", "x.toml"], "--label-map needs --label-mode normalised"),
        ([str(PRED), "--label-mode", "fancy"], "--label-mode must be raw or normalised"),
        ([str(EVAL / "two_columns.txt")], "two_columns.txt:1: missing tag column"),
        ([str(EVAL / "nope.txt")], "nope.txt"),
    ],
)
def test_usage_and_input_errors_are_one_line_exit_2(args: list[str], fragment: str, capsys, monkeypatch) -> None:
    code, out, err = run_cli(["evaluate", *args], capsys, monkeypatch)
    assert code == 2
    assert fragment in err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err

