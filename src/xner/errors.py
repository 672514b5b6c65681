"""User-facing errors: one line naming the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Bad input from the user. The CLI prints ``str(err)`` as one line and exits with code 2."""

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        # Keep it to one line whatever the message contains.
        return "error: " + where + " ".join(self.message.split())


class DataError(UserError):
    """A data file or folder is malformed or missing."""


class ConfigError(UserError):
    """A config file or value is wrong."""


class ModelError(UserError):
    """A model directory is missing, corrupted or incompatible."""
