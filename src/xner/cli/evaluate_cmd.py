"""``xner evaluate``: score a prediction file, or a trained model on a domain split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from xner.atomic import write_json
from xner.data.corpus import SPLITS, Sentence
from xner.errors import DataError, UserError

_HELP = (
    "Score predictions against gold tags: entity P/R/F1 (seqeval default/conlleval mode, strict "
    "IOB2 beside it), per type, and a token-level report.\n\n"
    "Give either FILE, a CoNLL file with token ... gold predicted columns, or --model DIR "
    "--domain NAME [--split test] to tag a domain split with a trained model."
)


def _usage(message: str) -> UserError:
    # A UserError, not a click exception: the CLI turns it into one line and exit code 2.
    return UserError(f"{message} (see `xner evaluate --help`)")


def _check_mode(file: Path | None, model: Path | None, domain: str | None, for_file: dict[str, Any],
                for_model: dict[str, Any]) -> None:
    """Exactly one of FILE / --model, and only the options that belong to that mode."""
    if (file is None) == (model is None):
        raise _usage("give exactly one of FILE or --model DIR")
    wrong = for_model if file is not None else for_file
    used = [name for name, value in wrong.items() if value is not None]
    if used:
        mode = "FILE" if file is not None else "--model"
        raise _usage(f"{', '.join(used)} cannot be used with {mode}")
    if model is not None and domain is None:
        raise _usage("--model needs --domain NAME")


def _from_file(file: Path, scheme: str, label_mode: str, label_map: Path | None) -> tuple[list[Sentence], list[list[str]]]:
    from xner.data.conll import read_prediction_file
    from xner.labels.normalise import apply_label_mode, load_label_map

    gold, pred = read_prediction_file(file, scheme=scheme)
    if label_mode == "normalised":
        lmap = load_label_map(label_map)
        # Predictions go through the same map, as sentences so domain overrides still apply.
        pred_sents = [g.with_tags(p) for g, p in zip(gold, pred)]
        gold = apply_label_mode(gold, "normalised", lmap)
        pred = [list(s.tags) for s in apply_label_mode(pred_sents, "normalised", lmap)]
    return gold, pred


def _from_model(model: Path, domain: str, split: str, data: Path | None,
                quantize: bool = False) -> tuple[list[Sentence], list[list[str]]]:
    from xner.api import evaluate_model

    extra = {"quantize": True} if quantize else {}  # unchanged call without it
    gold, pred = evaluate_model(model, domain, split, data, **extra)
    return list(gold), [list(p) for p in pred]


def evaluate_command(
    file: Annotated[Optional[Path], typer.Argument(help="CoNLL file: token ... gold predicted.", show_default=False)] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="Trained model directory.")] = None,
    domain: Annotated[Optional[str], typer.Option("--domain", help="Domain to evaluate on (with --model).")] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="train, dev or test (with --model; default test).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Data root (with --model).")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the full report as JSON here.")] = None,
    confusion: Annotated[Optional[Path], typer.Option("--confusion", help="Write confusion.csv and confusion.png into this folder.")] = None,
    scheme: Annotated[Optional[str], typer.Option("--scheme", help="Tag scheme of FILE: auto, iob1, iob2 or bioes.")] = None,
    label_mode: Annotated[Optional[str], typer.Option("--label-mode", help="raw (default) or normalised: map FILE's gold and predicted types to PER/ORG/LOC/MISC first.")] = None,
    label_map: Annotated[Optional[Path], typer.Option("--label-map", help="TOML label map for --label-mode normalised (default: the shipped CrossNER map).")] = None,
    quantize: Annotated[bool, typer.Option("--quantize", help="With --model (encoder): predict with dynamic int8 weights, to measure their F1 cost.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Score predictions: entity P/R/F1 (default + strict), per type, token report."""
    from xner.evaluation.report import evaluation_report, render_report, write_confusion

    _check_mode(file, model, domain,
                for_file={"--scheme": scheme, "--label-mode": label_mode, "--label-map": label_map},
                for_model={"--domain": domain, "--split": split, "--data": data, "--quantize": quantize or None})
    if label_mode not in (None, "raw", "normalised"):
        raise _usage(f"--label-mode must be raw or normalised, not {label_mode!r}")
    if label_map is not None and label_mode != "normalised":
        raise _usage("--label-map needs --label-mode normalised")
    if split is not None and split not in SPLITS:
        raise _usage(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
    if file is not None:
        gold, pred = _from_file(file, scheme or "auto", label_mode or "raw", label_map)
        source: dict[str, Any] = {"file": str(file), "label_mode": label_mode or "raw"}
    else:
        assert model is not None and domain is not None  # checked by _check_mode
        gold, pred = _from_model(model, domain, split or "test", data, quantize)
        source = {"model": str(model), "domain": domain, "split": split or "test"}
        if quantize:
            source["quantized"] = True
    try:
        report = evaluation_report(gold, pred)
    except ValueError as err:  # empty input or tag-count mismatch: name what was read
        raise DataError(str(err), path=file if file is not None else model) from None
    report["source"] = source
    console = Console()
    if not quiet:
        render_report(report, console)
    if json_path is not None:
        write_json(json_path, report)
        if not quiet:
            console.print(f"wrote {json_path}")
    if confusion is not None:
        csv_path, png_path = write_confusion(report, confusion)
        if not quiet:
            console.print(f"wrote {csv_path} and {png_path}")


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to the main app."""
    app.command("evaluate", help=_HELP)(evaluate_command)
