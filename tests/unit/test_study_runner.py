"""The runner with a fake backend: grid, skip finished runs, redo unfinished ones, jobs, errors."""

from __future__ import annotations

import errno
import fcntl
import shutil
import sqlite3
import sys
from pathlib import Path

import _study_fake as fake
import pytest
from typer.testing import CliRunner

from xner.errors import UserError
from xner.study import runner as runner_mod
from xner.study.runner import run_study
from xner.study.store import Store

SMALL = fake.TOML.replace('label_modes = ["raw", "normalised"]', 'label_modes = ["raw"]')


def _metrics(study_dir: Path) -> dict[str, object]:
    with Store(study_dir, readonly=True) as store:
        return {r.id: (r.status, r.metrics) for r in store.runs()}


def _calls(study_dir: Path) -> list[str]:
    path = study_dir / "calls.log"
    return path.read_text().splitlines() if path.exists() else []


def _baseline_f1s(study_dir: Path) -> list[float]:
    """Test F1 of each seed's baseline run (PTF, random 0 %), read from the store."""
    with Store(study_dir, readonly=True) as store:
        return [r.metrics["test_f1"] for r in store.runs(status="done")  # type: ignore[index]
                if r.method == "random" and r.setting == 0]


@pytest.fixture(scope="module")
def done_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One complete fake study (no report: report tests build their own)."""
    base = tmp_path_factory.mktemp("study")
    cfg = fake.write_config(base, SMALL)
    outcome = run_study(cfg, out=base / "s", backend=fake.BACKEND, quiet=True, report=False)
    assert outcome.failed == []
    return base


def test_complete_run_and_skip_on_rerun(done_study: Path, tmp_path: Path) -> None:
    study = tmp_path / "s"
    shutil.copytree(done_study / "s", study)
    # 2 seeds x (pretrain + random 0/50 + similar + dissimilar + uncertainty + twin + dft + jt)
    assert _metrics(study) and all(s == "done" for s, _ in _metrics(study).values())
    assert len(_metrics(study)) == 2 * 9
    calls = _calls(study)
    assert len(calls) == 18 + 3 + 1  # + target choice (one task a candidate) + distances
    assert sorted(c for c in calls if c == "choose_target") == ["choose_target"] * 3
    before = _metrics(study)
    outcome = run_study(done_study / "study.toml", out=study, backend=fake.BACKEND, quiet=True, report=False)
    assert outcome.counts["done"] == 18
    assert len(_calls(study)) == 22  # nothing executed again, artefacts reused
    assert _metrics(study) == before


def test_unfinished_runs_are_redone(done_study: Path, tmp_path: Path) -> None:
    study = tmp_path / "s"
    shutil.copytree(done_study / "s", study)
    before = _metrics(study)
    with sqlite3.connect(study / "study.db") as db:
        ids = [r[0] for r in db.execute("SELECT id FROM runs WHERE method != 'pretrain' ORDER BY id LIMIT 3")]
        db.execute("UPDATE runs SET status='running', metrics=NULL WHERE id=?", (ids[0],))
        db.execute("UPDATE runs SET status='failed', error='x' WHERE id=?", (ids[1],))
        db.execute("UPDATE runs SET status='pending' WHERE id=?", (ids[2],))
    (study / "calls.log").unlink()
    run_study(done_study / "study.toml", out=study, backend=fake.BACKEND, quiet=True, report=False)
    assert len(_calls(study)) == 3
    # A finished run whose predictions file vanished runs again too.
    with sqlite3.connect(study / "study.db") as db:
        path = db.execute("SELECT predictions_path FROM runs WHERE method='similar' LIMIT 1").fetchone()[0]
    (study / path).unlink()
    run_study(done_study / "study.toml", out=study, backend=fake.BACKEND, quiet=True, report=False)
    assert len(_calls(study)) == 4 and (study / path).is_file()
    assert _metrics(study) == before


def test_process_pool_equals_local(done_study: Path, tmp_path: Path) -> None:
    outcome = run_study(done_study / "study.toml", out=tmp_path / "s", backend=fake.BACKEND, jobs=2,
                        quiet=True, report=False)
    assert outcome.failed == []
    assert _metrics(tmp_path / "s") == _metrics(done_study / "s")


def test_failed_runs_are_recorded_and_retried(done_study: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FAIL_METHOD", "jt")
    outcome = run_study(done_study / "study.toml", out=tmp_path / "s", backend=fake.BACKEND, quiet=True,
                        report=False)
    assert len(outcome.failed) == 2 and "fake failure" in outcome.failed[0]
    assert outcome.counts == {"pending": 0, "running": 0, "done": 16, "failed": 2}
    with Store(tmp_path / "s", readonly=True) as store:
        failed = store.runs(status="failed")
        assert {r.method for r in failed} == {"jt"} and "RuntimeError: fake failure" in (failed[0].error or "")
    monkeypatch.delenv("FAKE_FAIL_METHOD")
    (tmp_path / "s" / "calls.log").unlink()
    outcome = run_study(done_study / "study.toml", out=tmp_path / "s", backend=fake.BACKEND, quiet=True,
                        report=False)
    assert outcome.counts["done"] == 18 and len(_calls(tmp_path / "s")) == 2
    assert _metrics(tmp_path / "s") == _metrics(done_study / "s")


def test_grown_grid_runs_only_new_runs(done_study: Path, tmp_path: Path) -> None:
    study = tmp_path / "s"
    shutil.copytree(done_study / "s", study)
    (study / "calls.log").unlink()
    cfg = fake.write_config(tmp_path, SMALL.replace("percentages = [0, 50]", "percentages = [0, 25, 50]"))
    run_study(cfg, out=study, backend=fake.BACKEND, quiet=True, report=False)
    assert sorted(_calls(study)) == ["random 25 raw 1", "random 25 raw 2"]


def test_second_driver_is_refused(tmp_path: Path) -> None:
    cfg = fake.write_config(tmp_path, SMALL)
    (tmp_path / "s").mkdir()
    with open(tmp_path / "s" / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(UserError, match="another `xner study run` is using this study directory"):
            run_study(cfg, out=tmp_path / "s", backend=fake.BACKEND, quiet=True, report=False)


def test_disk_full_while_writing_predictions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = fake.write_config(tmp_path, SMALL)
    real = runner_mod.write_predictions
    calls = {"n": 0}

    def flaky(path: Path, predictions: dict[str, object]) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, predictions)

    monkeypatch.setattr(runner_mod, "write_predictions", flaky)
    with pytest.raises(UserError, match="cannot write predictions: No space left on device"):
        run_study(cfg, out=tmp_path / "s", backend=fake.BACKEND, quiet=True, report=False)
    with Store(tmp_path / "s", readonly=True) as store:  # still opens, one run left unfinished
        assert store.counts()["running"] == 1 and store.counts()["done"] == 2 + 2
    monkeypatch.setattr(runner_mod, "write_predictions", real)
    outcome = run_study(cfg, out=tmp_path / "s", backend=fake.BACKEND, quiet=True, report=False)
    assert outcome.counts["done"] == 18


def test_unknown_domain_is_a_config_error(tmp_path: Path) -> None:
    cfg = fake.write_config(tmp_path, SMALL.replace('candidates = ["a", "b", "c"]', 'candidates = ["a", "zz"]'))
    with pytest.raises(UserError, match=r"study.toml: domain 'zz' not found"):
        run_study(cfg, out=tmp_path / "s", backend=fake.BACKEND, quiet=True, report=False)


def test_ray_missing_gives_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from xner.study.executors import make_executor

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(UserError, match=r"needs Ray: pip install 'xner\[ray\]'"):
        make_executor("ray", None)
    with pytest.raises(UserError, match="unknown executor"):
        make_executor("slurm", None)


def test_report_and_status_cli(done_study: Path, tmp_path: Path) -> None:
    from xner.cli import app

    study = tmp_path / "s"
    shutil.copytree(done_study / "s", study)
    result = CliRunner().invoke(app, ["study", "report", str(study)])
    assert result.exit_code == 0, result.output
    readme = (study / "report" / "README.md").read_text()
    for part in ("## Target choice", "| c | 10 | 5 | 0.4010 |", "## Results", "p (paired bootstrap)",
                 "curves_random.png", "similarity_raw.png", "uncertainty_raw.png", "## Best run", "confusion.png"):
        assert part in readme
    for png in ("curves_random.png", "similarity_raw.png", "uncertainty_raw.png", "confusion.png", "distances.png"):
        assert (study / "report" / png).stat().st_size > 1000
    # Every F1 in the results table is a group mean from the store.
    base = _baseline_f1s(study)
    assert f"{sum(base) / 2:.4f} ± " in readme
    status = CliRunner().invoke(app, ["study", "status", str(study), "--all"])
    assert status.exit_code == 0 and "done" in status.output and "18" in status.output


def test_one_seed_report_shows_no_spread(tmp_path: Path) -> None:
    """With one seed there is no std: the report says "(1 seed)" instead of a made-up "± 0.0000"."""
    from xner.study.report import write_report

    cfg = fake.write_config(tmp_path, SMALL.replace("seeds = [1, 2]", "seeds = [1]"))
    outcome = run_study(cfg, out=tmp_path / "s", backend=fake.BACKEND, quiet=True, report=False)
    assert outcome.failed == []
    readme = write_report(tmp_path / "s").read_text()
    base = _baseline_f1s(tmp_path / "s")
    assert len(base) == 1
    assert f"| {base[0]:.4f} (1 seed) | 1 |" in readme
    assert "± 0.0000" not in readme
