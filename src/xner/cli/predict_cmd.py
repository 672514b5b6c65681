"""``xner predict``: tag a CoNLL file, a raw-text file or ``--text`` with a trained model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from xner.cli.options import Device, Precision, Quiet, say
from xner.data.columns import looks_like_conll as _looks_like_conll  # noqa: F401  (the name tests use)


def predict_command(
    model: Annotated[Path, typer.Option("--model", help="Trained model folder.")],
    file: Annotated[Optional[Path], typer.Argument(
        help="CoNLL file (tokens in the first column) or a raw-text file.", show_default=False)] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="Raw text to tag instead of FILE.")] = None,
    fmt: Annotated[Optional[str], typer.Option(
        "--format", help="conll or json (default: conll for CoNLL input, json for text).")] = None,
    input_kind: Annotated[str, typer.Option("--input", help="auto, conll or text: how to read FILE "
                                            "(auto: CoNLL if every line ends in a tag).")] = "auto",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write here instead of stdout.")] = None,
    scores: Annotated[bool, typer.Option("--scores", help="JSON entities from text carry a confidence score.")] = False,
    quantize: Annotated[bool, typer.Option("--quantize", help="Encoder models: predict with dynamic int8 encoder "
                                           "weights (xner evaluate --quantize measures the F1 cost).")] = False,
    device: Device = "auto", precision: Precision = "auto", quiet: Quiet = False,
) -> None:
    """Tag a CoNLL file, a raw-text file or --text with a trained model."""
    from xner.api import predict_input
    from xner.atomic import write_text
    result = predict_input(model, file, text, fmt, input_kind, scores, quantize, device, precision)
    write_text(out, result) if out is not None else sys.stdout.write(result)
    say(device, precision, quiet, quantize)


def register(app: typer.Typer) -> None:
    """Add ``predict`` to the main app."""
    app.command("predict")(predict_command)
