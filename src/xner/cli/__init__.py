"""The ``xner`` command: a thin typer app. Each command group lives in its own module."""

from __future__ import annotations

import importlib
import sys

import typer

from xner.errors import UserError

app = typer.Typer(
    name="xner",
    help="Cross-domain NER: transfer from a rich source domain to a low-resource target.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module defines ``register(app)``; a missing module is skipped so the CLI still starts.
_COMMAND_MODULES = (
    "xner.cli.data_cmd",
    "xner.cli.evaluate_cmd",
    "xner.cli.train_cmd",
    "xner.cli.predict_cmd",
    "xner.cli.study_cmd",
    "xner.cli.annotate_cmd",
    "xner.cli.select_cmd",
)

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as err:
        if err.name != _name:
            raise
        continue
    _module.register(app)


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    try:
        app(standalone_mode=False)
    except UserError as err:
        print(err.format(), file=sys.stderr)
        sys.exit(err.exit_code)
    except typer.Exit as err:
        sys.exit(err.exit_code)
    except (typer.Abort, KeyboardInterrupt) as err:
        print("aborted" if isinstance(err, typer.Abort) else "interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as err:
        # typer vendors its own click; its usage errors are not click.ClickException.
        exit_code = getattr(err, "exit_code", None)
        if hasattr(err, "show") and isinstance(exit_code, int):
            err.show()
            sys.exit(exit_code)
        raise
