"""Reading TOML config files with one-line errors that name the file and, where known, the line.

Shared by the run config (``xner.run.load``) and the study config (``xner.study.config``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from xner.errors import ConfigError


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """(data, text) of a TOML file; unreadable, non-UTF-8 or malformed files are ConfigErrors."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read config: {err.strerror or err}", path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 text (byte {err.start})", path) from None
    return parse_toml(text, path), text


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = getattr(err, "msg", None) or re.sub(r"\s*\(at line.*\)$", "", str(err))
        raise ConfigError(f"TOML syntax error: {msg}", path, _toml_line(err)) from None


def _toml_line(err: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(err, "lineno", None)
    if lineno:
        return int(lineno)
    match = re.search(r"line (\d+)", str(err))
    return int(match.group(1)) if match else None


def error_loc(error: Any) -> str:
    """A pydantic error's location as a dotted key (``finetune.lr``)."""
    return ".".join(str(p) for p in error["loc"]) or "(top level)"


def key_line(text: str, loc: str) -> int | None:
    """Best-effort line of the key a validation error names (the last part of its loc)."""
    parts = [p for p in loc.split(".") if not p.isdigit()]
    if not parts:
        return None
    pattern = re.compile(rf"^\s*(\[+\s*)?{re.escape(parts[-1])}\s*(=|\]|\.)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return number
    return None


def error_message(err: ValidationError) -> tuple[str, str]:
    """(dotted key, message) of the first problem, with a count of the others."""
    first = err.errors()[0]
    msg = "unknown setting" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return error_loc(first), msg + more


def resolve_paths(data: dict[str, Any], keys: tuple[str, ...], base: Path, path: Path, text: str) -> dict[str, Any]:
    """Relative paths under dotted ``keys`` are made absolute against ``base`` (the file's folder),
    so a config means the same thing whatever the working directory."""
    for dotted in keys:
        *parents, leaf = dotted.split(".")
        table: Any = data
        for part in parents:
            table = table.get(part) if isinstance(table, dict) else None
        value = table.get(leaf) if isinstance(table, dict) else None
        if isinstance(value, str):
            try:
                table[leaf] = None if not value else (base / Path(value).expanduser()).resolve()
            except (RuntimeError, ValueError, OSError) as err:  # unknown ~user, NUL byte, ...
                raise ConfigError(f"{dotted}: not a usable path ({err})", path, key_line(text, dotted)) from None
    return data
