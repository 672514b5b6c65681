"""``xner study``: run a study from a config, show its progress, write its report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

study_app = typer.Typer(help="Run a whole study (grid of runs) from a TOML config; resumable.",
                        no_args_is_help=True)


@study_app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="Study config (TOML), e.g. configs/quick.toml.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Runs in parallel (worker processes).")] = 1,
    executor: Annotated[str, typer.Option("--executor", help="local or ray.")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (with --executor ray).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Study directory (default studies/NAME).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run (or resume) a study; finished runs are skipped. Ends by writing the report."""
    from xner.errors import UserError
    from xner.study.runner import run_study

    if address is not None and executor != "ray":
        raise UserError("--address only makes sense with --executor ray")
    console = Console(stderr=True, quiet=quiet)
    outcome = run_study(config, out=out, executor=executor, jobs=jobs, address=address, quiet=quiet,
                        console=console)
    for line in outcome.failed:
        Console(stderr=True).print(f"[red]failed[/red] {line}", highlight=False)
    counts = ", ".join(f"{n} {k}" for k, n in outcome.counts.items() if n)
    console.print(f"study {outcome.study_dir}: {counts}", highlight=False)
    print(outcome.report)
    if outcome.failed or outcome.counts.get("done", 0) < sum(outcome.counts.values()):
        raise typer.Exit(1)


def _when(ts: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts else ""


@study_app.command("status")
def status_command(
    study_dir: Annotated[Path, typer.Argument(help="Study directory.")],
    all_runs: Annotated[bool, typer.Option("--all", help="List every run, not only unfinished ones.")] = False,
) -> None:
    """Runs by status (and the unfinished or failed ones with their errors)."""
    from xner.study.store import Store

    console = Console()
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
    console.print(summary)
    listed = [r for r in rows if all_runs or r.status != "done"]
    if not listed:
        return
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
    console.print(table)


@study_app.command("report")
def report_command(study_dir: Annotated[Path, typer.Argument(help="Study directory.")]) -> None:
    """Write DIR/report/README.md and its PNGs from the study database; print the path."""
    from xner.study.report import write_report

    print(write_report(study_dir))


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
