"""``xner study export --mlflow``: a fake study exported to a real MLflow SQLite store, read back,
exported again (updated, not duplicated); the errors are one line and exit 2."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any

import _study_fake as fake
import pytest
from test_cli_train import run_cli

from xner.study.mlflow_export import flatten, params_of
from xner.study.runner import run_study

mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed (pip install 'xner[mlflow]')")
from mlflow.tracking import MlflowClient  # noqa: E402

ONE_SEED = (fake.TOML.replace('label_modes = ["raw", "normalised"]', 'label_modes = ["raw"]')
            .replace("seeds = [1, 2]", "seeds = [1]"))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished fake study (1 seed, raw labels: 9 runs) with its report."""
    base = tmp_path_factory.mktemp("study")
    outcome = run_study(fake.write_config(base, ONE_SEED), out=base / "s", backend=fake.BACKEND, quiet=True)
    assert outcome.failed == []
    return base / "s"


def _set_metrics(study: Path, method: str, **metrics: float) -> str:
    """Add or change metrics of the study's first run of ``method``; returns its id."""
    with sqlite3.connect(study / "study.db") as db:
        run_id, text = db.execute("SELECT id, metrics FROM runs WHERE method=? ORDER BY id", (method,)).fetchone()
        db.execute("UPDATE runs SET metrics=? WHERE id=?", (json.dumps({**json.loads(text), **metrics}), run_id))
    return str(run_id)


def _runs(client: Any) -> list[Any]:
    exp = client.get_experiment_by_name("fake")
    return list(client.search_runs([exp.experiment_id], max_results=1000))


def test_flatten_gives_dotted_keys_and_respects_the_length_limit() -> None:
    flat = flatten({"finetune": {"lr": 0.002, "device": None}, "data": {"target": ["c"], "label_map": {}}})
    assert flat == {"finetune.lr": "0.002", "finetune.device": "null", "data.target": '["c"]', "data.label_map": "{}"}
    assert params_of({"a": "x" * 20}, limit=10) == {"a": "xxxxxxx..."}


@pytest.mark.slow  # a new MLflow SQLite store runs all of MLflow's migrations (seconds)
def test_export_read_back_and_reexport(study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    study = shutil.copytree(study, tmp_path / "s")
    strict_id = _set_metrics(study, "random", test_strict_f1=0.4, test_precision=0.5, test_recall=0.45)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    code, out, err = run_cli(["study", "export", str(study), "--mlflow", uri], monkeypatch, capsys)
    assert code == 0, err
    assert "9 runs created, 0 updated" in out
    client = MlflowClient(tracking_uri=uri)
    runs = _runs(client)
    parents = [r for r in runs if r.data.tags.get("xner.kind") == "study"]
    assert len(parents) == 1 and len(runs) == 10
    parent = parents[0]
    children = {r.data.tags["xner.run_id"]: r for r in runs if r is not parent}
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in children.values())
    assert {r.data.tags["xner.method"] for r in children.values()} >= {"pretrain", "random", "similar", "dft"}
    child = children[strict_id]
    tags, params, metrics = child.data.tags, child.data.params, child.data.metrics
    assert (tags["xner.label_mode"], tags["xner.seed"], tags["xner.backbone"]) == ("raw", "1", "bilstm_crf")
    assert tags["xner.method"] == "random" and child.info.status == "FINISHED"
    assert params["data.target"] == '["c"]' and params["finetune.lr"] == "0.002"
    assert params["backbone.name"] == "bilstm_crf" and params["schema_version"] == "1"
    assert metrics["test_strict_f1"] == 0.4 and metrics["test_recall"] == 0.45 and "test_f1" in metrics
    saved = client.download_artifacts(child.info.run_id, "run_config.json", str(tmp_path))
    config = json.loads(Path(saved).read_text())
    assert config["seed"] == 1
    report = {f.path for f in client.list_artifacts(parent.info.run_id, "report")}
    assert {"report/README.md", "report/curves_random.png"} <= report
    assert parent.data.tags["xner.study_dir"] == str(study.resolve()) and parent.info.status == "FINISHED"

    # Again, after one metric changed: the same 10 runs, that metric's latest value is the new one.
    _set_metrics(study, "random", test_strict_f1=0.42)
    code, out, err = run_cli(["study", "export", str(study), "--mlflow", uri], monkeypatch, capsys)
    assert code == 0, err
    assert "0 runs created, 1 updated, 8 unchanged" in out
    again = _runs(client)
    assert sorted(r.info.run_id for r in again) == sorted(r.info.run_id for r in runs)
    child = client.get_run(child.info.run_id)
    assert child.data.metrics["test_strict_f1"] == 0.42
    assert len(client.get_metric_history(child.info.run_id, "test_f1")) == 1  # unchanged: not logged again


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _one_line_exit_2(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    code, _, err = run_cli(["study", "export", *args], monkeypatch, capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ")
    return err


def test_errors_are_one_line(study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    assert "no study database" in _one_line_exit_2([str(tmp_path / "none"), "--mlflow", uri], monkeypatch, capsys)
    old = tmp_path / "old"
    shutil.copytree(study, old)
    with sqlite3.connect(old / "study.db") as db:
        db.execute("UPDATE runs SET config='{\"seed\": 1}' WHERE method='random'")
    assert "older xner run schema" in _one_line_exit_2([str(old), "--mlflow", uri], monkeypatch, capsys)
    down = f"http://127.0.0.1:{_free_port()}"
    assert "cannot reach the MLflow tracking server" in _one_line_exit_2([str(study), "--mlflow", down],
                                                                         monkeypatch, capsys)
    (tmp_path / "file").write_text("not a folder")
    assert "cannot use the MLflow tracking store" in _one_line_exit_2(
        [str(study), "--mlflow", f"sqlite:///{tmp_path}/file/mlflow.db"], monkeypatch, capsys)
    assert not (tmp_path / "mlflow.db").exists()


def test_without_the_extra_it_says_how_to_install(study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    err = _one_line_exit_2([str(study), "--mlflow", f"sqlite:///{tmp_path}/mlflow.db"], monkeypatch, capsys)
    assert "pip install 'xner[mlflow]'" in err
