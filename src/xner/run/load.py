"""Build a ``RunConfig`` from a TOML file, command-line shorthands and ``--set`` overrides, and
write one back as TOML.

Precedence, lowest first: the backbone's defaults, the file, the shorthands (``--epochs``), the
``--set key=value`` overrides. Every problem is one ``ConfigError`` naming the file or the
override and the key.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from xner.errors import ConfigError
from xner.run.config import RunConfig
from xner.tomlfile import error_message, key_line, read_toml, resolve_paths

_KEY_FIRST = re.compile(r"^([A-Za-z_]\w*(?:\.\w+)*): (.+)$", re.DOTALL)
PATH_KEYS = ("data.root", "data.label_map", "backbone.init_model", "runtime.cache")


def parse_override(item: str) -> tuple[str, Any]:
    """``finetune.lr=5e-5`` -> ("finetune.lr", 5e-05). The value is read as TOML when it parses
    (numbers, booleans, ``["a", "b"]``), else taken as a plain string (``data.target=ai``)."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. finetune.lr=5e-5")
    try:
        return key, tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return key, raw.strip()


def apply_override(data: dict[str, Any], key: str, value: Any, origin: str) -> None:
    """Set the dotted ``key`` in nested ``data`` (tables made as needed)."""
    *parents, leaf = key.split(".")
    table = data
    for depth, part in enumerate(parents):
        nxt = table.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{origin} {key}: {'.'.join(parents[:depth + 1])} is a value, not a table")
        table = nxt
    table[leaf] = value


def read_settings(path: Path | None) -> dict[str, Any] | None:
    """Backbone settings from a JSON or TOML file (keys as in the backbone's config class)."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise ConfigError("model config file not found", path) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ConfigError(f"cannot read model config: {err}", path) from None
    if not isinstance(data, dict):
        raise ConfigError("model config must be a table/object of settings", path)
    return data


def shorthand_settings(flags: Mapping[str, Any], shorthands: Mapping[str, Sequence[str]]) -> list[tuple[str, Any]]:
    """The (dotted key, value) pairs the given command-line flags stand for (None: the flag was
    not given): ``domain``, ``model_config`` and ``encoder`` by their own rules, the rest by
    ``shorthands`` (flag -> the dotted keys it fills)."""
    pairs: list[tuple[str, Any]] = []
    if flags.get("domain") is not None:
        pairs.append(("data.target", [part.strip() for part in flags["domain"].split(",")]))
    settings = read_settings(flags.get("model_config"))
    if flags.get("encoder") is not None:
        settings = {**(settings or {}), "encoder": flags["encoder"]}
    if settings is not None:
        pairs.append(("backbone.settings", settings))
    for flag, keys in shorthands.items():
        value = flags.get(flag)
        if value is not None:
            pairs.extend((key, str(value) if isinstance(value, Path) else value) for key in keys)
    return pairs


def build_config(path: Path | None = None, shorthands: Iterable[tuple[str, Any]] = (),
                 overrides: Sequence[str] = (), flag_names: Mapping[str, str] | None = None) -> RunConfig:
    """The RunConfig from a file (or none), shorthand settings and ``--set`` overrides.
    ``flag_names`` maps a dotted key to the option that set it, for error messages."""
    data: dict[str, Any] = {}
    text = ""
    if path is not None:
        data, text = read_toml(path)
        data = resolve_paths(data, PATH_KEYS, path.parent, path, text)
    given: dict[str, str] = {}
    for key, value in shorthands:
        if value is not None:
            apply_override(data, key, value, "option")
            given[key] = (flag_names or {}).get(key, "option")
    for item in overrides:
        key, value = parse_override(item)
        apply_override(data, key, value, "--set")
        given[key] = "--set"
    for key in PATH_KEYS:  # paths from the command line are relative to the working directory
        if key in given:
            data = resolve_paths(data, (key,), Path.cwd(), Path("--set"), "")
    return validate(data, path, text, given)


def validate(data: Mapping[str, Any], path: Path | None = None, text: str = "",
             given: Mapping[str, str] | None = None) -> RunConfig:
    """``RunConfig.model_validate`` with its first problem as a one-line ConfigError."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        loc, msg = _deepen(*error_message(err))
        origin = (given or {}).get(loc) or next((o for k, o in (given or {}).items() if loc.startswith(k + ".")), None)
        if origin == "--set":
            raise ConfigError(f"--set {loc}: {msg}") from None
        if origin is not None:
            raise ConfigError(f"{origin} ({loc}): {msg}") from None
        where = "" if loc == "(top level)" else f"{loc}: "
        if path is None:
            raise ConfigError(f"{where}{msg}") from None
        raise ConfigError(f"{where}{msg}", path, key_line(text, loc)) from None
    except ValueError as err:  # raised by a validator before pydantic wraps it (rare)
        raise ConfigError(str(err), path) from None


def _deepen(loc: str, msg: str) -> tuple[str, str]:
    """A section validator's message that starts with a key (``settings.encoder: unknown setting``)
    moves that key into the location, so the error names the full key and the option that set it."""
    match = _KEY_FIRST.match(msg)
    if match is None:
        return loc, msg
    key = match.group(1) if loc == "(top level)" else f"{loc}.{match.group(1)}"
    return key, match.group(2)


def label_map_digest(cfg: RunConfig) -> str | None:
    """sha256 of the label map's content when the run reads one (the shipped map by default)."""
    if not cfg.uses_label_map:
        return None
    from xner.labels.normalise import load_label_map

    content = json.dumps(load_label_map(cfg.data.label_map).to_json(), sort_keys=True)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def run_id(cfg: RunConfig) -> str:
    """The run's identity: sha256 of its canonical form, label map by content."""
    return cfg.run_id(label_map_digest(cfg))


def to_toml(cfg: RunConfig) -> str:
    """The resolved config as TOML: every setting spelt out, ``None`` left out (it is the default)."""
    data = _drop_none(cfg.model_dump(mode="json"))
    target = data["data"]["target"]
    if len(target) == 1:
        data["data"]["target"] = target[0]
    return tomli_w.dumps(data)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value
