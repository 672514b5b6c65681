"""``xner data``: corpus statistics, file validation and the CrossNER download."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from xner.atomic import write_json
from xner.data.conll import discover_domains, domain_files, load_corpus, read_conll_info
from xner.data.download import download_crossner
from xner.data.tags import check_scheme_name, entity_spans
from xner.data.sources import find_data_root
from xner.errors import DataError

DataOpt = Annotated[
    Optional[Path],
    typer.Option("--data", help="Data root (folder of domain folders). Default: see `xner data`."),
]
SchemeOpt = Annotated[
    str, typer.Option("--scheme", help="Tag scheme of the files: auto, iob1, iob2 or bioes.")
]
RepairOpt = Annotated[
    bool, typer.Option("--repair", help="Turn an I- tag that starts an entity into B-.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]

data_app = typer.Typer(
    help="Inspect, validate and download data. The data root is, in order: --data, $XNER_DATA, "
    "../shared/data/crossner, the user cache (filled by `xner data download crossner`).",
    no_args_is_help=True,
)


@data_app.command("stats")
def stats_command(
    data: DataOpt = None,
    domain: Annotated[
        Optional[list[str]], typer.Option("--domain", help="Only this domain (repeatable).")
    ] = None,
    json_path: Annotated[
        Optional[Path], typer.Option("--json", help="Also write the numbers to this JSON file.")
    ] = None,
    scheme: SchemeOpt = "auto",
    repair: RepairOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Sentences, tokens and entities (per type) for each domain and split."""
    from xner.data.stats import corpus_stats, render_stats

    check_scheme_name(scheme)
    corpus = load_corpus(find_data_root(data), domain or None, scheme, repair)
    stats = corpus_stats(corpus)
    if json_path is not None:
        write_json(json_path, stats)
    if not quiet:
        render_stats(stats, Console())


def _domain_targets(folder: Path) -> list[tuple[str, Path]]:
    return [(folder.resolve().name, file) for file in domain_files(folder).values()]


def _check_targets(paths: list[Path], data: Path | None) -> list[tuple[str, Path]]:
    """(domain, file) pairs to validate: files, domain folders, data roots; default the root."""
    if not paths:
        paths = [find_data_root(data)]
    targets: list[tuple[str, Path]] = []
    for path in paths:
        if not path.is_dir():
            targets.append(("", path))
        elif any((path / f"{split}.txt").exists() for split in ("train", "dev", "test")):
            targets.extend(_domain_targets(path))
        elif names := discover_domains(path):
            for name in names:
                targets.extend(_domain_targets(path / name))
        else:
            raise DataError("folder has no train/dev/test files and no domain folders", path)
    return targets


@data_app.command("check")
def check_command(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(help="CoNLL files, domain folders or data roots. Default: the data root."),
    ] = None,
    data: DataOpt = None,
    scheme: SchemeOpt = "auto",
    repair: RepairOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Validate CoNLL files; stop with exit code 2 at the first error."""
    check_scheme_name(scheme)
    table = Table(title="Checked files", title_justify="left")
    table.add_column("file", overflow="fold")
    for column in ("domain", "scheme"):
        table.add_column(column)
    for column in ("sentences", "tokens", "entities", "repaired"):
        table.add_column(column, justify="right")
    totals = [0, 0, 0, 0]
    targets = _check_targets(list(paths or []), data)
    for domain, file in targets:
        result = read_conll_info(file, domain, scheme, repair)
        counts = [
            len(result.sentences),
            sum(len(s) for s in result.sentences),
            sum(len(entity_spans(s.tags)) for s in result.sentences),
            result.repaired,
        ]
        totals = [a + b for a, b in zip(totals, counts)]
        table.add_row(str(file), domain, result.scheme, *(f"{n:,}" for n in counts))
    if not quiet:
        console = Console()
        console.print(table)
        console.print(
            f"ok: {len(targets)} file(s), {totals[0]:,} sentences, {totals[1]:,} tokens, "
            f"{totals[2]:,} entities, {totals[3]:,} tag(s) repaired",
            soft_wrap=True,
        )


@data_app.command("download")
def download_command(
    dataset: Annotated[str, typer.Argument(help="Dataset to fetch (only: crossner).")] = "crossner",
    dest: Annotated[
        Optional[Path], typer.Option("--dest", help="Target folder. Default: the user cache.")
    ] = None,
    url: Annotated[
        Optional[str],
        typer.Option("--url", help="Base URL (default: the CrossNER GitHub repository, or "
                     "$XNER_DOWNLOAD_URL)."),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Network timeout, seconds.")] = 60.0,
    quiet: QuietOpt = False,
) -> None:
    """Download the six CrossNER domains and check their pinned sha256 sums."""
    if dataset.lower() != "crossner":
        raise DataError(f"unknown dataset {dataset!r} (only 'crossner' can be downloaded)")
    download_crossner(dest, url, timeout=timeout, quiet=quiet)


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to the main app."""
    app.add_typer(data_app, name="data")
