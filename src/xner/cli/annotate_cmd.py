"""``xner annotate``: hand uncertain sentences to people and merge their corrections back.

  xner annotate export --model DIR --domain ai [--split train] [--threshold 2.0] [--budget N] --out DIR
  xner annotate import FILE --into DIR_OR_FILE [--out FILE]
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from xner.errors import ConfigError, DataError

app = typer.Typer(help="Re-annotation by people: export for review (CoNLL, Label Studio), import corrections.",
                  no_args_is_help=True)


@app.command("export")
def export_command(
    model: Annotated[Path, typer.Option("--model", help="Trained model directory.")],
    domain: Annotated[str, typer.Option("--domain", help="Domain whose sentences are reviewed.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for review.conll, tasks.json, label_config.xml.")],
    data: Annotated[Optional[Path], typer.Option("--data", help="Data root (folder of domain folders).")] = None,
    split: Annotated[str, typer.Option("--split", help="Split to review: train, dev or test.")] = "train",
    threshold: Annotated[float, typer.Option("--threshold", help="Token entropy (nats) above which a token is marked '?'.")] = 2.0,
    budget: Annotated[Optional[int], typer.Option("--budget", help="At most this many sentences (most uncertain first).")] = None,
    score: Annotated[str, typer.Option("--score", help="Sentence ranking: max, mean or sum of token entropies.")] = "max",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Write the sentences with uncertain tokens, with the model's labels, for people to check."""
    from xner.api import load_model
    from xner.data.conll import read_conll
    from xner.data.corpus import SPLITS
    from xner.data.sources import find_data_root
    from xner.selection.annotate import export_for_review

    if split not in SPLITS:
        raise ConfigError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    if budget is not None and budget < 1:
        raise ConfigError(f"--budget must be >= 1, got {budget}")
    loaded = load_model(model)
    root = find_data_root(data)
    file = root / domain / f"{split}.txt"
    if not file.is_file():
        raise DataError(f"no {split} split for domain {domain!r}", file)
    sentences = read_conll(file, domain)
    meta = {"model": str(model), "data_file": str(file), "domain": domain, "split": split,
            "label_mode": loaded.label_mode}
    summary = export_for_review(loaded.tagger, sentences, out, threshold, budget, score, meta=meta)
    if not quiet:
        Console().print(f"{summary.sentences} of {len(sentences)} sentences ({summary.uncertain_tokens} tokens "
                        f"above {threshold:g}) written to {out}: review.conll, tasks.json + label_config.xml "
                        "(Label Studio)", highlight=False)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Edited review.conll, or a Label Studio JSON export (.json).")],
    into: Annotated[Path, typer.Option("--into", help="Data file, domain folder or data root the ids refer to.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the merged file here instead of in place.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Validate the edited labels and merge them into the data by sentence id (atomic write)."""
    from xner.selection.annotate import import_reviewed

    summary = import_reviewed(file, into, out)
    if quiet:
        return
    console = Console()
    console.print(f"merged {summary.sentences} sentences ({summary.changed_tokens} labels changed) into "
                  f"{', '.join(str(p) for p in summary.written)}", highlight=False)
    if summary.new_types:
        console.print(f"note: the data had no {', '.join(summary.new_types)} entities before; check the "
                      "label mode of the exporting model", highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="annotate")
