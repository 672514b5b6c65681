"""Options of every command that runs a model, defined once: ``--device`` and ``--precision``."""

from typing import Annotated

import typer

DEVICE = "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps."
PRECISION = "auto (bf16 on a CUDA GPU with it, else fp32), fp32, bf16 or fp16 (autocast)."
Device = Annotated[str, typer.Option("--device", help=DEVICE)]
Precision = Annotated[str, typer.Option("--precision", help=PRECISION)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


def say(device: str, precision: str, quiet: bool = False, quantize: bool = False) -> None:
    """After the work, on stderr: the device and precision ``auto`` (or the name given) came to."""
    from xner.api import resolve_runtime  # the API functions check the device before reading anything

    if not quiet:
        typer.echo("ran on {}, {}".format(*resolve_runtime(device, precision, quantize)), err=True)
