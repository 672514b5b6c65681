"""``xner study``: run a study from a config, show its progress, write its report, export it to MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from xner.cli.options import DEVICE, PRECISION

study_app = typer.Typer(help="Run a whole study (grid of runs) from a TOML config; resumable.",
                        no_args_is_help=True)


@study_app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="Study config (TOML), e.g. configs/quick.toml.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Runs in parallel (worker processes).")] = 1,
    executor: Annotated[str, typer.Option("--executor", help="local or ray.")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (with --executor ray).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Study directory (default studies/NAME).")] = None,
    device: Annotated[str | None, typer.Option(help="[runtime] device of every run: " + DEVICE)] = None,
    precision: Annotated[str | None, typer.Option(help="[runtime] precision of every run: " + PRECISION)] = None,
    gpus_per_worker: Annotated[float | None, typer.Option(help="[runtime] gpus_per_worker (0: workers share).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run (or resume) a study; finished runs are skipped. Ends by writing the report."""
    from xner.study.runner import run_study
    from xner.study.status import show_outcome

    console = Console(stderr=True, quiet=quiet)
    outcome = run_study(config, out=out, executor=executor, jobs=jobs, address=address, quiet=quiet, console=console,
                        device=device, precision=precision, gpus_per_worker=gpus_per_worker)
    if not show_outcome(outcome, console):
        raise typer.Exit(1)


@study_app.command("plan")
def plan_command(
    config: Annotated[Path, typer.Argument(help="Study config (TOML).")],
    out: Annotated[Path | None, typer.Option("--out", help="Study directory (default studies/NAME).")] = None,
) -> None:
    """Print the grid, cached pre-trainings and estimated CPU time; runs nothing."""
    from xner.study.plan import plan_text

    print(plan_text(config, out), end="")


@study_app.command("status")
def status_command(
    study_dir: Annotated[Path, typer.Argument(help="Study directory.")],
    all_runs: Annotated[bool, typer.Option("--all", help="List every run, not only unfinished ones.")] = False,
) -> None:
    """Runs by status (and the unfinished or failed ones with their errors)."""
    from xner.study.status import status_tables

    Console().print(*status_tables(study_dir, all_runs))


@study_app.command("report")
def report_command(study_dir: Annotated[Path, typer.Argument(help="Study directory.")]) -> None:
    """Write DIR/report/README.md and its PNGs from the study database; print the path."""
    from xner.study.report import write_report

    print(write_report(study_dir))


@study_app.command("export")
def export_command(
    study_dir: Annotated[Path, typer.Argument(help="Study directory.")],
    mlflow: Annotated[str, typer.Option("--mlflow", help="MLflow tracking URI, e.g. sqlite:///mlflow.db.")],
    experiment: Annotated[str | None, typer.Option(help="MLflow experiment (default: the study's name).")] = None,
) -> None:
    """Export the study's runs and report to MLflow; exporting again updates them."""
    from xner.study.mlflow_export import export_study

    print(export_study(study_dir, mlflow, experiment).summary())


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
