"""Rows of the report's results table whose seeds spread wider than 0.05 get their runs shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import _study_fake as fake

from xner.study.backend import Backend
from xner.study.report import write_report
from xner.study.runner import run_study

CONFIG = fake.TOML.replace('label_modes = ["raw", "normalised"]', 'label_modes = ["raw"]')


def steady(spec: Any, ctx: Any, collapse: bool = False) -> dict[str, Any]:
    """The fake run with test F1 0.5 + 0.01 x seed (std 0.007); with ``collapse``, seed 2 of the
    similar-domain runs peaks on dev at epoch 2, stops at epoch 7 and scores 0.05."""
    out = fake.execute(spec, ctx)
    if spec.method != "pretrain":
        collapsed = collapse and spec.method == "similar" and spec.seed == 2
        out["metrics"].update(test_f1=0.05 if collapsed else 0.5 + 0.01 * spec.seed,
                              dev_f1=0.11 if collapsed else 0.4, best_epoch=2 if collapsed else 25,
                              epochs_run=7 if collapsed else 35)
    return out


def collapsing(spec: Any, ctx: Any) -> dict[str, Any]:
    return steady(spec, ctx, collapse=True)


def _report(tmp_path: Path, execute: Any) -> str:
    backend = Backend(describe=fake.describe, execute=execute, choose_target=fake.choose_target,
                      distances=fake.distances)
    outcome = run_study(fake.write_config(tmp_path, CONFIG), out=tmp_path / "s", backend=backend, quiet=True,
                        report=False)
    assert outcome.failed == []
    return write_report(tmp_path / "s").read_text()


def test_wide_rows_list_their_runs(tmp_path: Path) -> None:
    readme = _report(tmp_path, collapsing)
    section = readme[readme.index("### Rows with a std above 0.05"):readme.index("## Figures")]
    lines = [line for line in section.splitlines() if line.startswith("| raw |")]
    assert lines and all("most similar" in line for line in lines)  # only the rows that spread
    assert "| 2 | 0.0500 | 0.1100 | 2 | 7 |" in section  # the collapsed seed: peak at 2, stopped at 7
    assert sum("| 35 |" in line for line in lines) == 2 * len(lines) // 3  # the other seeds ran on


def test_no_wide_row_is_said(tmp_path: Path) -> None:
    readme = _report(tmp_path, steady)
    assert "No row has a std of test F1 above 0.05." in readme
    assert "### Rows with a std above" not in readme
