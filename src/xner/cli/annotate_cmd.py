"""``xner annotate``: hand uncertain sentences to people (export) and merge their corrections back (import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

app = typer.Typer(help="Re-annotation by people: export for review (CoNLL, Label Studio), import corrections.",
                  no_args_is_help=True)
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


@app.command("export")
def export_command(
    model: Annotated[Path, typer.Option("--model", help="Trained model directory.")],
    domain: Annotated[str, typer.Option("--domain", help="Domain whose sentences are reviewed.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for review.conll, tasks.json, label_config.xml.")],
    data: Annotated[Optional[Path], typer.Option("--data", help="Data root (folder of domain folders).")] = None,
    split: Annotated[str, typer.Option("--split", help="Split to review: train, dev or test.")] = "train",
    threshold: Annotated[float, typer.Option(
        "--threshold", help="Token entropy (nats) above which a token is marked '?'.")] = 2.0,
    budget: Annotated[Optional[int], typer.Option(
        "--budget", help="At most this many sentences (most uncertain first).")] = None,
    score: Annotated[str, typer.Option(
        "--score", help="Sentence ranking: max, mean or sum of token entropies.")] = "max",
    quiet: Quiet = False,
) -> None:
    """Write the sentences with uncertain tokens, with the model's labels, for people to check."""
    from xner.api import export_review

    summary, n_read = export_review(model, domain, out, data, split, threshold, budget, score)
    Console(quiet=quiet).print(
        f"{summary.sentences} of {n_read} sentences ({summary.uncertain_tokens} tokens above {threshold:g}) "
        f"written to {out}: review.conll, tasks.json + label_config.xml (Label Studio)", highlight=False)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Edited review.conll, or a Label Studio JSON export (.json).")],
    into: Annotated[Path, typer.Option("--into", help="Data file, domain folder or data root the ids refer to.")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Write the merged file here instead of in place.")] = None,
    quiet: Quiet = False,
) -> None:
    """Validate the edited labels and merge them into the data by sentence id (atomic write)."""
    from xner.selection.annotate import import_reviewed

    summary = import_reviewed(file, into, out)
    console = Console(quiet=quiet)
    console.print(f"merged {summary.sentences} sentences ({summary.changed_tokens} labels changed) into "
                  f"{', '.join(str(p) for p in summary.written)}", highlight=False)
    if summary.new_types:
        console.print(f"note: the data had no {', '.join(summary.new_types)} entities before; check the "
                      "label mode of the exporting model", highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="annotate")
