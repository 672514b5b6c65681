"""``xner annotate``: export or push uncertain sentences for people to check; import or pull their fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from xner.cli.options import Device, Precision, Quiet, say

app = typer.Typer(help="Re-annotation by people: export or push to Label Studio; import or pull corrections.",
                  no_args_is_help=True)
Model = Annotated[Path, typer.Option("--model", help="Trained model directory.")]
Domain = Annotated[str, typer.Option("--domain", help="Domain whose sentences are reviewed.")]
Data = Annotated[Optional[Path], typer.Option("--data", help="Data root (folder of domain folders).")]
Split = Annotated[str, typer.Option("--split", help="Split to review: train, dev or test.")]
Threshold = Annotated[float, typer.Option("--threshold", help="Token entropy (nats) above which a token is flagged.")]
Budget = Annotated[Optional[int], typer.Option("--budget", help="At most this many sentences (most uncertain first).")]
Score = Annotated[str, typer.Option("--score", help="max, mean, sum (token entropies), mnlp, least_confidence.")]
Into = Annotated[Path, typer.Option("--into", help="Data file, domain folder or data root the ids refer to.")]
Out = Annotated[Optional[Path], typer.Option("--out", help="Write the merged file here instead of in place.")]
Url = Annotated[str, typer.Option("--url", help="Label Studio address, e.g. http://127.0.0.1:8080.")]
Token = Annotated[Optional[str], typer.Option("--token", help="Label Studio personal access or legacy token "
                                              "[default: $XNER_LABEL_STUDIO_TOKEN, $LABEL_STUDIO_API_KEY].")]


@app.command("export")
def export_command(model: Model, domain: Domain, out: Annotated[Path, typer.Option(
        "--out", help="Folder for review.conll, tasks.json, label_config.xml.")], data: Data = None,
        split: Split = "train", threshold: Threshold = 2.0, budget: Budget = None, score: Score = "max",
        device: Device = "auto", precision: Precision = "auto", quiet: Quiet = False) -> None:
    """Write the sentences with uncertain tokens, with the model's labels, for people to check."""
    from xner.api import export_review
    summary, n_read = export_review(model, domain, out, data, split, threshold, budget, score, device, precision)
    Console(quiet=quiet).print(
        f"{summary.sentences} of {n_read} sentences ({summary.uncertain_tokens} tokens above {threshold:g}) "
        f"written to {out}: review.conll, tasks.json + label_config.xml (Label Studio)", highlight=False)
    say(device, precision, quiet)


@app.command("push")
def push_command(model: Model, domain: Domain, url: Url, token: Token = None, project: Annotated[Optional[str],
        typer.Option("--project", help="Project title, created or reused [default: xner DOMAIN/SPLIT].")] = None,
        data: Data = None, split: Split = "train", threshold: Threshold = 2.0, budget: Budget = None,
        score: Score = "max", device: Device = "auto", precision: Precision = "auto", quiet: Quiet = False) -> None:
    """Send the flagged sentences to Label Studio as tasks pre-annotated by the model."""
    from xner.api import push_review
    s, n = push_review(model, domain, url, token, project, data, split, threshold, budget, score, device, precision)
    Console(quiet=quiet).print(s.message(n), highlight=False, soft_wrap=True)
    say(device, precision, quiet)


@app.command("import")
def import_command(file: Annotated[Path, typer.Argument(help="Edited review.conll, or a Label Studio JSON export "
                   "(.json).")], into: Into, out: Out = None, quiet: Quiet = False) -> None:
    """Validate the edited labels and merge them into the data by sentence id (atomic write)."""
    from xner.selection.annotate import import_reviewed
    Console(quiet=quiet).print(import_reviewed(file, into, out).message(), highlight=False, soft_wrap=True)


@app.command("pull")
def pull_command(url: Url, project: Annotated[str, typer.Option("--project", help="Project title.")], into: Into,
                 token: Token = None, out: Out = None, quiet: Quiet = False) -> None:
    """Merge a Label Studio project's finished annotations into the data, as import does."""
    from xner.api import pull_review
    Console(quiet=quiet).print(pull_review(url, project, into, token, out).message(), highlight=False, soft_wrap=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="annotate")
