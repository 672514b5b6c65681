"""The study runs through RunConfig: its runs have the ids `xner train` gives the same settings,
its source subset is cut where the CLI's is, its phases take the registry's defaults, and a
study made before run configs is refused in one line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import _study_fake as fake
import pytest

from xner.data.corpus import Domain, Sentence
from xner.errors import ConfigError
from xner.run.load import build_config, run_id
from xner.study.config import load_config, parse_config
from xner.study.grid import pretrain_specs, run_specs
from xner.study.store import Store

STUDY = """seeds = [4]
source_subset = 7
label_modes = ["raw"]
[model]
hidden = 16
[pretrain]
epochs = 2
[finetune]
epochs = 3
lr = 0.01
[runtime]
threads = 1
[methods.random]
percentages = [0, 30]
"""

# The same run as the study's, written as `xner train --config run.toml --dry-run` reads it.
RUN = """seed = 4
[data]
target = "ai"
source_subset = 7
[backbone.settings]
hidden = 16
[pretrain]
epochs = 2
[finetune]
epochs = 3
lr = 0.01
"""


def _study_runs(tmp_path: Path) -> list[Any]:
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    return run_specs(load_config(path), "ai", ["music", "science"], ["music", "science"],
                     data_root=tmp_path, study_dir=tmp_path / "s")


def _train_config(tmp_path: Path, text: str, *sets: str) -> Any:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return build_config(path, overrides=sets)


def test_study_runs_have_the_ids_of_xner_train(tmp_path: Path) -> None:
    runs = {(r.method, r.setting): r for r in _study_runs(tmp_path)}
    # The PTF baseline flags uncertain tokens (uncertainty sampling is on by default).
    ptf = _train_config(tmp_path, RUN, "flag_threshold=2.0")
    assert run_id(ptf) == runs["random", 0.0].id
    assert run_id(_train_config(tmp_path, RUN)) != runs["random", 0.0].id  # and the flags are in the id
    dft = _train_config(tmp_path, RUN, "mode=dft")
    assert run_id(dft) == runs["dft", 0.0].id
    jt = _train_config(tmp_path, RUN, "mode=jt")
    assert run_id(jt) == runs["jt", 0.0].id
    added = RUN + '[added]\nmethod = "random"\nsetting = 30.0\ndomains = ["music", "science"]\n'
    assert run_id(_train_config(tmp_path, added)) == runs["random", 30.0].id
    # The same config written back as TOML (what the study's kept model folders hold) keeps the id.
    from xner.run.load import to_toml

    again = _train_config(tmp_path, to_toml(runs["random", 30.0].config))
    assert run_id(again) == runs["random", 30.0].id


def test_phases_take_the_registry_defaults(tmp_path: Path) -> None:
    from xner.models.registry import train_defaults

    cfg = parse_config("", tmp_path / "s.toml")
    target = train_defaults("bilstm_crf", "target")
    assert (cfg.finetune.epochs, cfg.finetune.patience, cfg.finetune.batch_size) == (
        target["epochs"], target["patience"], target["batch_size"])
    # Given keys win; the rest stay the backbone's.
    cfg = parse_config("[finetune]\nepochs = 4\n", tmp_path / "s.toml")
    assert cfg.finetune.epochs == 4 and cfg.finetune.patience == target["patience"]
    assert cfg.pretrain.epochs == train_defaults("bilstm_crf", "source")["epochs"]


@pytest.mark.parametrize("section", ["pretrain", "finetune"])
def test_threads_in_a_phase_is_a_clear_error(tmp_path: Path, section: str) -> None:
    path = tmp_path / "old.toml"
    path.write_text(f'name = "x"\n\n[{section}]\nepochs = 3\nthreads = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert text.startswith(f"error: {path}:5: {section}.threads:") and "[runtime] threads" in text
    assert "\n" not in text


def _source(n_train: int, n_dev: int) -> Domain:
    def sent(i: int) -> Sentence:
        return Sentence((f"w{i}", "x"), ("B-person", "O"))

    return Domain("conll2003", [sent(i) for i in range(n_train)], [sent(1000 + i) for i in range(n_dev)],
                  [sent(2000)])


def test_the_source_subset_is_cut_as_the_cli_cuts_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The study's pre-training task and `xner train` pre-train on the same sentences: both cut the
    source through ``xner.run.data.cut_source`` (train and the same share of dev)."""
    from xner.run import data as run_data
    from xner.run.data import cut_source
    from xner.study import methods
    from xner.study.backend import StudyContext
    from xner.transfer import pretrain_finetune

    full = _source(40, 20)
    root = tmp_path / "data"
    (root / "conll2003").mkdir(parents=True)
    for split in ("train", "dev", "test"):  # a data root to find; its sentences come from `full`
        (root / "conll2003" / f"{split}.txt").write_text("x O\n", encoding="utf-8")
    monkeypatch.setattr(run_data, "domain", lambda root, name: full)
    seen: list[Domain] = []

    def fake_pretrain(source: Domain, *args: Any, **kwargs: Any) -> Path:
        seen.append(source)
        folder = tmp_path / f"pre{len(seen)}"
        folder.mkdir()
        (folder / "pretrain.json").write_text(json.dumps({"fit": {}, "train_sentences": len(source.train)}))
        return folder

    monkeypatch.setattr(pretrain_finetune, "pretrain_source", fake_pretrain)
    (study_pre,) = pretrain_specs(parse_config(STUDY, tmp_path / "s.toml"), "ai", data_root=root)
    ctx = StudyContext(parse_config(STUDY, tmp_path / "s.toml"), tmp_path, root)
    assert methods.execute(study_pre, ctx)["metrics"]["n_train"] == 7
    from xner.run.execute import pretrain

    pretrain(_train_config(tmp_path, RUN, f"data.root={root}"))
    expected = cut_source(full, 7)
    assert len(expected.train) == 7 and len(expected.dev) == round(7 * 20 / 40)
    assert len(seen) == 2
    for source in seen:
        assert (source.train, source.dev) == (expected.train, expected.dev)


def _old_study(tmp_path: Path) -> Path:
    """A study directory as xner wrote it before run configs: a run row whose config has no schema."""
    study = tmp_path / "old"
    with Store(study) as store:
        store.add_runs([("ab" * 32, "random", 0.0, "raw", 1, "bilstm_crf",
                         json.dumps({"method": "random", "seed": 1, "label_mode": "raw"}))])
    return study


@pytest.mark.parametrize("command", ["status", "report", "run"])
def test_an_old_study_gets_one_clear_line_and_exit_2(tmp_path: Path, command: str) -> None:
    study = _old_study(tmp_path)
    args = [str(study)] if command != "run" else [str(fake.write_config(tmp_path)), "--out", str(study)]
    proc = subprocess.run([sys.executable, "-m", "xner", "study", command, *args],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith(f"error: {study}: ")
    assert "older xner run schema" in line and "new directory" in line
    with sqlite3.connect(study / "study.db") as db:  # nothing was added to the old study
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_a_new_study_passes_the_schema_check(tmp_path: Path) -> None:
    from xner.study.runner import run_study

    cfg = fake.write_config(tmp_path)
    run_study(cfg, out=tmp_path / "s", backend=fake.BACKEND, quiet=True, report=False)
    with Store(tmp_path / "s", readonly=True) as store:
        store.check_schema()
        assert all(r.config["schema_version"] == 1 for r in store.runs() if r.method != "pretrain")
        assert all(r.config["pretrain"]["schema_version"] == 1 for r in store.runs() if r.method == "pretrain")
