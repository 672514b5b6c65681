"""``xner study plan``: the grid, cached pre-trainings and a CPU-time estimate, with nothing run."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import _study_fake as fake
from typer.testing import CliRunner

from xner.cli import app
from xner.study.plan import make_plan, plan_text
from xner.study.runner import run_study

CONFIG = 'data_root = "data"\n' + fake.TOML.replace('label_modes = ["raw", "normalised"]', 'label_modes = ["raw"]')


def _setup(tmp_path: Path) -> Path:
    for name in ("a", "b", "c", "src"):  # the domains the fake backend describes (empty files: never read)
        (tmp_path / "data" / name).mkdir(parents=True)
        for split in ("train", "dev", "test"):
            (tmp_path / "data" / name / f"{split}.txt").write_text("")
    return fake.write_config(tmp_path, CONFIG)


def test_plan_of_a_new_study_runs_and_writes_nothing(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    result = CliRunner().invoke(app, ["study", "plan", str(config), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "s").exists()
    out = result.output
    # 2 seeds x (random 0, 50, similar, dissimilar, uncertainty, its twin, dft, jt).
    assert "16 runs: 0 done, 16 to run." in out
    assert "target auto, not chosen yet" in out
    assert "| random | 50 | raw | 1, 2 | 0 | 2 |" in out and "| jt | 0 | raw | 1, 2 | 0 | 2 |" in out
    assert len(re.findall(r"\| [0-9a-f]{12} \| to run \|", out)) == 2  # one pre-training per seed
    assert "no timings yet (18 tasks left" in out


def test_plan_reads_the_store_done_runs_cache_and_timings(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    study = tmp_path / "s"
    assert run_study(config, out=study, backend=fake.BACKEND, quiet=True, report=False).failed == []
    plan = make_plan(config, study)
    assert plan.target == "c" and plan.target_known  # the fake chooses the last candidate
    text = plan_text(config, study)
    assert "16 runs: 16 done, 0 to run." in text and "Nothing left to run." in text
    assert len(re.findall(r"\| [0-9a-f]{12} \| cached \|", text)) == 2
    # The plan's ids are the runner's: every run of the store is one of the plan's.
    with sqlite3.connect(study / "study.db") as db:
        stored = {r[0] for r in db.execute("SELECT id FROM runs")}
    assert {s.id for s in plan.runs + plan.pretrain} == stored
    with sqlite3.connect(study / "study.db") as db:
        db.execute("UPDATE runs SET seconds = 2.0")
        db.execute("UPDATE runs SET seconds = 30.0 WHERE method = 'dft'")
        for method in ("dft", "random"):
            db.execute("UPDATE runs SET status = 'pending' WHERE id = (SELECT id FROM runs WHERE method = ? "
                       "ORDER BY id LIMIT 1)", (method,))
    text = plan_text(config, study)
    # Left: one dft (median of the done dft: 30 s) and one random (2 s): 32 s.
    assert "Estimate: 0.5 min of one worker for 2 of the 2 tasks left" in text
    assert "| dft | 1 | 30.0 | 1 |" in text and "| random | 1 | 2.0 | 3 |" in text
    with sqlite3.connect(study / "study.db") as db:
        db.execute("UPDATE runs SET status = 'failed' WHERE method = 'similar'")
    text = plan_text(config, study)
    assert "| similar | 2 | no timings yet | 0 |" in text
    assert "Not in the estimate (no timings yet): similar." in text
    assert "for 2 of the 4 tasks left" in text
