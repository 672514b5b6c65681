"""What ``xner study status`` shows (runs by status, then the unfinished or all runs with their errors) and
what ``xner study run`` prints at its end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from xner.study.store import RunRow, Store

if TYPE_CHECKING:
    from xner.study.runner import StudyOutcome


def _when(ts: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts else ""


def _runs_table(listed: list[RunRow]) -> Table:
    errors = any(r.error for r in listed)
    table = Table()
    cols = ["id", "run", "status", "tries", "started", "seconds", "test F1"] + (["error"] if errors else [])
    for col in cols:
        table.add_column(col, no_wrap=col not in ("error", "run"), min_width=len(col))
    for r in listed:
        f1 = f"{r.metrics['test_f1']:.4f}" if r.metrics and "test_f1" in r.metrics else ""
        cells = [r.id[:8], f"{r.method} {r.setting:g} {r.label_mode} s{r.seed}", r.status, str(r.attempts),
                 _when(r.started), f"{r.seconds:.1f}" if r.seconds else "", f1]
        table.add_row(*cells, *([(r.error or "").splitlines()[0][:80] if r.error else ""] if errors else []))
    return table


def status_tables(study_dir: Path, all_runs: bool = False) -> list[Table]:
    """The summary by status and, unless every listed run is done, a table of runs (all with ``all_runs``)."""
    with Store(study_dir, readonly=True) as store:
        store.check_schema()
        grid = store.artefact("grid") or {}
        ids = list(grid.get("pretrain", [])) + list(grid.get("runs", [])) or None
        rows = store.runs(ids)
    summary = Table(title=f"{study_dir}: {len(rows)} runs")
    for col in ("status", "runs", "seconds (total)"):
        summary.add_column(col)
    for status in ("done", "running", "pending", "failed"):
        chosen = [r for r in rows if r.status == status]
        summary.add_row(status, str(len(chosen)), f"{sum(r.seconds or 0 for r in chosen):.1f}")
    listed = [r for r in rows if all_runs or r.status != "done"]
    return [summary, _runs_table(listed)] if listed else [summary]


def show_outcome(outcome: StudyOutcome, console: Console) -> bool:
    """Print what ``xner study run`` ends with (failed runs, counts, the report's path); True when
    every run is done."""
    for line in outcome.failed:
        Console(stderr=True).print(f"[red]failed[/red] {line}", highlight=False)
    counts = ", ".join(f"{n} {k}" for k, n in outcome.counts.items() if n)
    console.print(f"study {outcome.study_dir}: {counts}", highlight=False)
    print(outcome.report)
    return not outcome.failed and outcome.counts.get("done", 0) == sum(outcome.counts.values())
