"""Crash and resume with the fake backend: SIGKILL the driver at named points, run it again, and
the database and predictions equal an uninterrupted study's (the report, built from them, is
compared byte for byte in tests/integration/test_study_faults.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import _study_fake as fake
import pytest

from xner.study.store import Store

HERE = Path(__file__).resolve().parent
CONFIG = fake.TOML.replace('label_modes = ["raw", "normalised"]', 'label_modes = ["raw"]').replace(
    "seeds = [1, 2]", "seeds = [1]")
SCRIPT = (
    "import sys; sys.path.insert(0, sys.argv[1]); import _study_fake as f; "
    "from xner.study.runner import run_study; "
    "run_study(sys.argv[2], out=sys.argv[3], backend=f.BACKEND, quiet=True, report=sys.argv[4] == '1')"
)


def _run(cfg: Path, out: Path, kill: str | None = None, report: bool = False) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XNER_TEST_")}
    if kill:
        env["XNER_TEST_KILL_AFTER"] = kill
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE), str(cfg), str(out), "1" if report else "0"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
    return proc.returncode


def _state(study: Path) -> dict[str, object]:
    with Store(study, readonly=True) as store:
        rows = {r.id: (r.status, r.metrics, r.predictions_path) for r in store.runs()}
        artefacts = {n: store.artefact(n) for n in store.artefact_names()}
    files = {p.name: p.read_bytes() for p in sorted((study / "runs").iterdir())}
    return {"rows": rows, "artefacts": artefacts, "files": files}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ref")
    cfg = fake.write_config(base, CONFIG)
    assert _run(cfg, base / "s") == 0
    return base / "s"


# Kills during pre-training and while a model is saved: tests/integration/test_study_tiny.py.
@pytest.mark.parametrize("kill", ["db:4", "predictions:3", "run:5"])
def test_kill_and_resume_equals_uninterrupted(reference: Path, tmp_path: Path, kill: str) -> None:
    cfg = fake.write_config(tmp_path, CONFIG)
    study = tmp_path / "s"
    assert _run(cfg, study, kill=kill) == -signal.SIGKILL
    with Store(study, readonly=True) as store:  # the killed driver left a consistent database
        counts = store.counts()
        assert counts["done"] < 9 and sum(counts.values()) >= 1
    assert _run(cfg, study) == 0
    assert _state(study) == _state(reference)
    assert not [p for p in study.rglob("*.tmp")], "half-written files left behind"
    lines = (study / "calls.log").read_text().splitlines()
    assert len(set(lines)) == len(set((reference / "calls.log").read_text().splitlines()))
