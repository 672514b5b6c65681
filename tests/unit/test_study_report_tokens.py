"""The report with token costs: findings first, a tokens-added column, Holm-adjusted p, integer counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import _study_fake as fake

from xner.study.backend import Backend
from xner.study.report import write_report
from xner.study.runner import run_study
from xner.study.store import Store

CONFIG = fake.TOML.replace('label_modes = ["raw", "normalised"]', 'label_modes = ["raw"]')


def execute(spec: Any, ctx: Any) -> dict[str, Any]:
    """The fake run, plus what the real backend records: tokens added and (baseline) flagged tokens."""
    out = fake.execute(spec, ctx)
    metrics = out["metrics"]
    if spec.method != "pretrain":
        # Uncertainty sampling picks long sentences: 3x the tokens of its random twin.
        per_sentence = 9 if spec.method == "uncertainty" else 3
        metrics["n_added_tokens"] = metrics["n_added"] * per_sentence + spec.seed
        if (spec.method, spec.setting) == ("random", 0):
            metrics.update(flagged_tokens=6 + spec.seed, flagged_sentences=4 + spec.seed, train_tokens=3909)
    return out


BACKEND = Backend(describe=fake.describe, execute=execute, choose_target=fake.choose_target,
                  distances=fake.distances)


def test_report_shows_tokens_adjusted_p_and_integer_counts(tmp_path: Path) -> None:
    outcome = run_study(fake.write_config(tmp_path, CONFIG), out=tmp_path / "s", backend=BACKEND, quiet=True,
                        report=False)
    assert outcome.failed == []
    readme = write_report(tmp_path / "s").read_text()
    # Findings come first, before the target choice and the tables they summarise.
    assert readme.index("## Findings") < readme.index("## Target choice") < readme.index("## Results")
    assert "### The reference study's claims beside ours" in readme
    assert "Uncertainty vs random at equal tokens (raw)**: uncertainty sampling" in readme
    header = next(line for line in readme.splitlines() if line.startswith("| label mode |"))
    assert "| tokens added |" in header and "| p (Holm-adjusted) |" in header
    with Store(tmp_path / "s", readonly=True) as store:
        rows = [r for r in store.runs(status="done") if r.method == "similar"]
    tokens = sum(r.metrics["n_added_tokens"] for r in rows) / len(rows)  # type: ignore[index]
    row = next(line for line in readme.splitlines() if line.startswith("| raw | PTF + most similar"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4] == f"{tokens:.0f}"
    raw_p, adjusted = cells[8], cells[9]
    assert adjusted == raw_p or adjusted == "< 0.001" or float(adjusted) >= float(raw_p.replace("< ", ""))
    # Counts are integers, one line per seed: no "7.0 of 3909 tokens".
    assert "- raw, seed 1: 7 of 3909 tokens in 5 sentences" in readme
    assert "- raw, seed 2: 8 of 3909 tokens in 6 sentences" in readme
    assert not re.search(r"\d\.0 of \d+ tokens", readme)
    assert (tmp_path / "s" / "report" / "uncertainty_tokens_raw.png").stat().st_size > 1000
