"""``xner evaluate``: score a prediction file, or a trained model on a domain split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from xner.atomic import write_json
from xner.cli.options import Device, Precision, Quiet, say
from xner.data.corpus import SPLITS
from xner.errors import UserError

_HELP = ("Score predictions against gold tags: entity P/R/F1 (seqeval default/conlleval mode, strict IOB2 beside "
         "it), per type, and a token-level report.\n\nGive either FILE, a CoNLL file with token ... gold predicted "
         "columns, or --model DIR --domain NAME [--split test] to tag a domain split with a trained model.")


def _usage(message: str) -> UserError:  # not a click exception: the CLI makes it one line and exit code 2
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


def evaluate_command(
    file: Annotated[Optional[Path], typer.Argument(
        help="CoNLL file: token ... gold predicted.", show_default=False)] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="Trained model directory.")] = None,
    domain: Annotated[Optional[str], typer.Option("--domain", help="Domain to evaluate on (with --model).")] = None,
    split: Annotated[Optional[str], typer.Option(
        "--split", help="train, dev or test (with --model; default test).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Data root (with --model).")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the full report as JSON here.")] = None,
    confusion: Annotated[Optional[Path], typer.Option(
        "--confusion", help="Write confusion.csv and confusion.png into this folder.")] = None,
    scheme: Annotated[Optional[str], typer.Option(
        "--scheme", help="Tag scheme of FILE: auto, iob1, iob2 or bioes.")] = None,
    label_mode: Annotated[Optional[str], typer.Option("--label-mode", help="raw (default) or normalised: map FILE's "
                                                      "gold and predicted types to PER/ORG/LOC/MISC first.")] = None,
    label_map: Annotated[Optional[Path], typer.Option("--label-map", help="TOML label map for --label-mode "
                                                      "normalised (default: the shipped CrossNER map).")] = None,
    quantize: Annotated[bool, typer.Option("--quantize", help="With --model (encoder): predict with dynamic int8 "
                                           "weights, to measure their F1 cost.")] = False,
    device: Device = "auto", precision: Precision = "auto", quiet: Quiet = False,
) -> None:
    """Score predictions: entity P/R/F1 (default + strict), per type, token report."""
    from xner.evaluation.report import render_report, scored_report, write_confusion

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
        from xner.labels.normalise import read_predictions

        gold, pred = read_predictions(file, scheme or "auto", label_mode or "raw", label_map)
        source: dict[str, Any] = {"file": str(file), "label_mode": label_mode or "raw"}
    else:
        from xner.api import evaluate_model
        assert model is not None and domain is not None  # checked by _check_mode
        gold, pred = evaluate_model(model, domain, split or "test", data, quantize=quantize, device=device,
                                    precision=precision)
        source = {"model": str(model), "domain": domain, "split": split or "test"}
        source.update({"quantized": True} if quantize else {})
        say(device, precision, quiet, quantize)
    report = scored_report(gold, pred, source, file if file is not None else model)
    console = Console(quiet=quiet)
    render_report(report, console)
    if json_path is not None:
        write_json(json_path, report)
        console.print(f"wrote {json_path}")
    if confusion is not None:
        csv_path, png_path = write_confusion(report, confusion)
        console.print(f"wrote {csv_path} and {png_path}")


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to the main app."""
    app.command("evaluate", help=_HELP)(evaluate_command)
