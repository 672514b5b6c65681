"""``xner data``: corpus statistics, file validation and the CrossNER download."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from xner.atomic import write_json
from xner.data.download import download_dataset

DataOpt = Annotated[Optional[Path], typer.Option(
    "--data", help="Data root (folder of domain folders). Default: see `xner data`.")]
SchemeOpt = Annotated[str, typer.Option("--scheme", help="Tag scheme of the files: auto, iob1, iob2 or bioes.")]
RepairOpt = Annotated[bool, typer.Option("--repair", help="Turn an I- tag that starts an entity into B-.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]

data_app = typer.Typer(
    help="Inspect, validate and download data. The data root is, in order: --data, $XNER_DATA, "
    "../shared/data/crossner, the user cache (filled by `xner data download crossner`).",
    no_args_is_help=True,
)


@data_app.command("stats")
def stats_command(
    data: DataOpt = None,
    domain: Annotated[Optional[list[str]], typer.Option("--domain", help="Only this domain (repeatable).")] = None,
    json_path: Annotated[Optional[Path], typer.Option(
        "--json", help="Also write the numbers to this JSON file.")] = None,
    scheme: SchemeOpt = "auto",
    repair: RepairOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Sentences, tokens and entities (per type) for each domain and split."""
    from xner.data.stats import data_stats, render_stats

    stats = data_stats(data, domain, scheme, repair)
    if json_path is not None:
        write_json(json_path, stats)
    render_stats(stats, Console(quiet=quiet))


@data_app.command("check")
def check_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(
        help="CoNLL files, domain folders or data roots. Default: the data root.")] = None,
    data: DataOpt = None,
    scheme: SchemeOpt = "auto",
    repair: RepairOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Validate CoNLL files; stop with exit code 2 at the first error."""
    from xner.data.stats import check_files, render_checks

    checks = check_files(list(paths or []), data, scheme, repair)
    render_checks(checks, Console(quiet=quiet))


@data_app.command("download")
def download_command(
    dataset: Annotated[str, typer.Argument(help="Dataset to fetch (only: crossner).")] = "crossner",
    dest: Annotated[Optional[Path], typer.Option("--dest", help="Target folder. Default: the user cache.")] = None,
    url: Annotated[Optional[str], typer.Option(
        "--url", help="Base URL (default: the CrossNER GitHub repository, or $XNER_DOWNLOAD_URL).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Network timeout, seconds.")] = 60.0,
    quiet: QuietOpt = False,
) -> None:
    """Download the six CrossNER domains and check their pinned sha256 sums."""
    download_dataset(dataset, dest, url, timeout=timeout, quiet=quiet)


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to the main app."""
    app.add_typer(data_app, name="data")
