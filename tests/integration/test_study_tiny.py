"""A real tiny study (BiLSTM-CRF, synthetic data written here): SIGKILL it at several points and
resume, and run it on Ray; the results must equal an uninterrupted local run with the same seeds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import _study_tiny as tiny
import pytest

from xner.study.runner import run_study
from xner.study.store import Store

pytestmark = pytest.mark.integration
# One label mode keeps the crash chain (five processes) short.
CONFIG = tiny.CONFIG.replace('label_modes = ["raw", "normalised"]', 'label_modes = ["normalised"]')
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("XNER_TEST_")}


def _state(study: Path) -> dict[str, Any]:
    """Everything a study produced that must not depend on interruptions (paths made relative)."""
    with Store(study, readonly=True) as store:
        rows = {r.id: (r.status, r.metrics, r.predictions_path, Path(r.model_path or "").name)
                for r in store.runs()}
        artefacts = {n: store.artefact(n) for n in store.artefact_names() if n != "config"}
    files = {str(p.relative_to(study)): p.read_bytes()
             for sub in ("runs", "report") for p in sorted((study / sub).rglob("*")) if p.is_file()}
    models = sorted(p.name for p in (study / "models").iterdir())
    return {"rows": rows, "artefacts": artefacts, "files": files, "models": models}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ref")
    outcome = run_study(tiny.write_study(base, CONFIG), out=base / "s", quiet=True)
    assert outcome.failed == [] and outcome.counts["done"] == 9
    # Kept models are written as `xner train` writes them: a normalised model carries its label map.
    from xner.api import LABEL_MAP_FILE

    models = list((base / "s" / "models").iterdir())
    assert models and all((m / LABEL_MAP_FILE).is_file() and (m / "run.toml").is_file() for m in models)
    return base / "s"


def _study(tmp_path: Path, kill: str | None) -> int:
    env = dict(CLEAN_ENV)
    if kill:
        env["XNER_TEST_KILL_AFTER"] = kill
    cmd = [sys.executable, "-m", "xner", "study", "run", str(tmp_path / "tiny.toml"), "--out",
           str(tmp_path / "s"), "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
    return proc.returncode


def test_sigkill_chain_then_resume_equals_uninterrupted(reference: Path, tmp_path: Path) -> None:
    tiny.write_study(tmp_path, CONFIG)
    # Each process dies at a different point, after some progress; the next one resumes.
    # (A kill while a predictions file is half written is covered in tests/unit/test_study_faults.py.)
    for kill in ("pretrain:2", "checkpoint:2", "run:3", "db:4"):
        assert _study(tmp_path, kill) == -signal.SIGKILL, f"{kill} was never reached"
        with Store(tmp_path / "s", readonly=True) as store:
            assert store.counts()["done"] < 9
    assert _study(tmp_path, None) == 0
    assert _state(tmp_path / "s") == _state(reference)
    assert not [p for p in (tmp_path / "s").rglob("*.tmp")]
    assert not list((tmp_path / "s" / "pretrained").glob(".work.*"))


@pytest.mark.slow  # starting Ray takes ~20 s on 2 cores
def test_ray_executor_equals_local_and_retries_a_lost_worker(reference: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'xner[ray]')")
    # Workers inherit this environment: the first run's worker SIGKILLs itself once (the
    # marker file makes the retry survive), so Ray must re-run that task elsewhere.
    once = tmp_path / "killed-once"
    monkeypatch.setenv("XNER_TEST_KILL_AFTER", "run:1")
    monkeypatch.setenv("XNER_TEST_KILL_ONCE", str(once))
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False)
    try:
        outcome = run_study(tiny.write_study(tmp_path, CONFIG), out=tmp_path / "s", executor="ray", quiet=True)
    finally:
        ray.shutdown()
    assert once.exists(), "no worker was killed: the retry path was not exercised"
    assert outcome.failed == [] and outcome.counts["done"] == 9
    assert _state(tmp_path / "s") == _state(reference)


def test_read_only_study_dir_is_a_clear_error(reference: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from xner.errors import UserError
    from xner.study import runner

    study = tmp_path / "s"
    shutil.copytree(reference, study)
    config = tiny.write_study(tmp_path, CONFIG)

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(runner.shutil, "copyfile", read_only)
    with pytest.raises(UserError, match="cannot write the study directory: Read-only file system"):
        run_study(config, out=study, quiet=True, report=False)
    with Store(study, readonly=True) as store:
        assert store.counts()["done"] == 9


STAGED = CONFIG + """
[methods.staged]
enabled = true
epochs = 2
"""


def _write_with_test_copies(folder: Path) -> Path:
    """The tiny study, with each target-like domain's first test sentence copied into the train
    split of every other one: the pooled stage must leave those copies out."""
    config = tiny.write_study(folder, STAGED)
    names = [d for d in tiny.DOMAINS if d != "src"]
    firsts = {d: (folder / "data" / d / "test.txt").read_text().split("\n\n")[0] for d in names}
    for d in names:
        with (folder / "data" / d / "train.txt").open("a") as handle:
            handle.writelines(f"\n{firsts[other]}\n" for other in names if other != d)
    return config


def test_staged_method_trains_on_the_pool_then_the_target_and_resumes(tmp_path: Path) -> None:
    """A staged run: killed between its two fits, resumed, it ends as an uninterrupted one does."""
    ref = tmp_path / "ref"
    ref.mkdir()
    outcome = run_study(_write_with_test_copies(ref), out=ref / "s", quiet=True)
    assert outcome.failed == [] and outcome.counts["done"] == 10
    with Store(ref / "s", readonly=True) as store:
        (staged,) = [r for r in store.runs() if r.method == "staged"]
    target, added = staged.config["data"]["target"][0], staged.config["added"]
    pool = [d for d in tiny.DOMAINS if d not in ("src", target)]
    assert added["method"] == "staged" and sorted(added["domains"]) == sorted(pool)
    assert added["stage"]["epochs"] == 2 and staged.config["finetune"]["epochs"] == 3
    # The pooled stage's sentences from outside the target count as added: every pool domain's
    # train split, less the copies of test sentences planted in it.
    assert staged.metrics["n_added"] == sum(tiny.SIZES[d][0] for d in pool)
    # Every run stores entity P/R/F1 of dev and test, default and strict (the MLflow export's metrics).
    keys = [f"{split}_{strict}{m}" for split in ("dev", "test") for strict in ("", "strict_")
            for m in ("precision", "recall", "f1")]
    assert all(0.0 <= staged.metrics[k] <= 1.0 for k in keys), staged.metrics
    assert "PTF + a stage on pool + target train, then target" in (ref / "s" / "report" / "README.md").read_text()

    again = tmp_path / "again"
    again.mkdir()
    _write_with_test_copies(again)
    assert _study(again, "stage:1") == -signal.SIGKILL, "the staged run never reached its second stage"
    assert _study(again, None) == 0
    assert _state(again / "s") == _state(ref / "s")
