"""Label normalisation: map domain-specific entity types to PER/ORG/LOC/MISC.

Maps are TOML files (format documented in the header of ``maps/crossner.toml``): a ``[map]``
table ``type = "GENERIC"`` and optional ``[domains.<name>]`` tables that override it for one
domain. ``apply_label_mode(sentences, "raw")`` leaves tags alone (raw = the identity map);
``"normalised"`` rewrites ``B-x``/``I-x`` to ``B-MAP(x)``/``I-MAP(x)``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from xner.data.corpus import Sentence
from xner.errors import ConfigError

GENERIC_TYPES: tuple[str, ...] = ("PER", "ORG", "LOC", "MISC")
LABEL_MODES: tuple[str, ...] = ("raw", "normalised")
LabelMode = Literal["raw", "normalised"]

_SHIPPED = "crossner.toml"
_TOP_LEVEL = {"map", "domains"}
_LINE_RE = re.compile(r"at line (\d+)")


@dataclass(frozen=True)
class LabelMap:
    """Raw type -> generic type, with optional per-domain overrides."""

    mapping: dict[str, str]
    domains: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = "<memory>"

    def target(self, type_: str, domain: str = "") -> str | None:
        """Generic type for ``type_`` in ``domain``; None when the map does not name it."""
        override = self.domains.get(domain)
        if override is not None and type_ in override:
            return override[type_]
        if type_ in self.mapping:
            return self.mapping[type_]
        # Generic names map to themselves so already-normalised tags pass through.
        return type_ if type_ in GENERIC_TYPES else None

    def missing(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        """Sorted raw types (of ``(domain, type)`` pairs) that have no target."""
        return sorted({t for d, t in pairs if self.target(t, d) is None})

    def to_json(self) -> dict[str, Any]:
        """Plain dict, stable key order: stored in model metadata and run hashes."""
        return {
            "map": dict(sorted(self.mapping.items())),
            "domains": {d: dict(sorted(m.items())) for d, m in sorted(self.domains.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "<json>") -> LabelMap:
        return _validated(dict(data), source, text="")


def load_label_map(path: Path | str | None = None) -> LabelMap:
    """Load and validate a label map; ``None`` loads the shipped CrossNER map."""
    if path is None:
        ref = resources.files("xner.labels").joinpath("maps", _SHIPPED)
        text, source = ref.read_text(encoding="utf-8"), str(ref)
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("label map file not found", path=source) from None
        except UnicodeDecodeError:
            raise ConfigError("label map is not UTF-8 text", path=source) from None
        except OSError as err:
            raise ConfigError(f"cannot read label map: {err.strerror}", path=source) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = _LINE_RE.search(str(err))
        line = int(match.group(1)) if match else None
        reason = _LINE_RE.split(str(err))[0].rstrip(" (")
        raise ConfigError(f"malformed TOML: {reason}", path=source, line=line) from None
    return _validated(data, source, text)


def _validated(data: dict[str, Any], source: str, text: str) -> LabelMap:
    """Check the parsed TOML and build the map; every problem is a ConfigError with file/line."""
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise ConfigError(
            f"unknown section(s) {', '.join(unknown)}; expected [map] and optional [domains.NAME]",
            path=source,
            line=_line_of(text, unknown[0]),
        )
    if not isinstance(data.get("map"), dict):
        raise ConfigError("label map needs a [map] table of type = \"PER|ORG|LOC|MISC\"", path=source)
    mapping = _checked_table(data["map"], "map", source, text)
    domains_raw = data.get("domains", {})
    if not isinstance(domains_raw, dict):
        raise ConfigError("'domains' must hold tables [domains.NAME]", path=source, line=_line_of(text, "domains"))
    domains: dict[str, dict[str, str]] = {}
    for name, table in domains_raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"[domains.{name}] must be a table", path=source, line=_line_of(text, name))
        domains[name] = _checked_table(table, f"domains.{name}", source, text)
    return LabelMap(mapping=mapping, domains=domains, source=source)


def _checked_table(table: dict[str, Any], where: str, source: str, text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(
                f"[{where}] {key} must be a string (one of {', '.join(GENERIC_TYPES)}), "
                f"got {type(value).__name__}",
                path=source,
                line=_line_of(text, key),
            )
        if value not in GENERIC_TYPES:
            raise ConfigError(
                f"[{where}] {key} = {value!r} is not one of {', '.join(GENERIC_TYPES)}",
                path=source,
                line=_line_of(text, key),
            )
        out[key] = value
    return out


def _line_of(text: str, key: str) -> int | None:
    """Best-effort line of ``key = ...`` (tomllib reports no lines for valid TOML)."""
    pattern = re.compile(rf'^\s*(\[\s*)?("?)(domains\.)?{re.escape(key)}\2\s*(=|\])')
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def entity_types(sentences: Iterable[Sentence]) -> set[tuple[str, str]]:
    """``(domain, type)`` pairs that occur in the sentences' tags."""
    return {(s.domain, tag[2:]) for s in sentences for tag in s.tags if tag != "O"}


def check_covers(label_map: LabelMap, sentences: Iterable[Sentence]) -> None:
    """Raise ConfigError listing every type in the data that the map does not name."""
    missing = label_map.missing(entity_types(sentences))
    if missing:
        raise ConfigError(
            f"label map has no entry for {len(missing)} type(s) in the data: {', '.join(missing)}; "
            "add them under [map]",
            path=label_map.source,
        )


def normalise_tags(tags: Sequence[str], label_map: LabelMap, domain: str = "") -> list[str]:
    """Map one IOB2 tag sequence; adjacent entities of different raw types stay separate."""
    out: list[str] = []
    prev_type: str | None = None
    for tag in tags:
        if tag == "O":
            out.append(tag)
            prev_type = None
            continue
        prefix, raw = tag[:2], tag[2:]
        generic = label_map.target(raw, domain)
        if generic is None:
            raise ConfigError(f"label map has no entry for type {raw!r}", path=label_map.source)
        # An I- of another raw type right after an entity starts a new one (conlleval reading);
        # once both map to the same generic type it must become B- or the two would merge.
        if prefix == "I-" and prev_type is not None and prev_type != raw:
            prefix = "B-"
        out.append(prefix + generic)
        prev_type = raw
    return out


def apply_label_mode(
    sentences: Sequence[Sentence], mode: str | None, label_map: LabelMap | None = None
) -> list[Sentence]:
    """``raw`` (or None, as stored by models without a mode): sentences unchanged;
    ``normalised``: types mapped to PER/ORG/LOC/MISC with ``label_map`` (default: shipped)."""
    if mode is None or mode == "raw":
        return list(sentences)
    if mode != "normalised":
        raise ConfigError(f"unknown label mode {mode!r}; choose one of {', '.join(LABEL_MODES)}")
    label_map = label_map if label_map is not None else load_label_map()
    check_covers(label_map, sentences)
    return [s.with_tags(normalise_tags(s.tags, label_map, s.domain)) for s in sentences]


def read_predictions(path: Path, scheme: str = "auto", label_mode: str = "raw",
                     label_map: Path | None = None) -> tuple[list[Sentence], list[list[str]]]:
    """Gold sentences and predicted tags of a ``token ... gold predicted`` file. ``normalised``
    maps both through ``label_map`` (a TOML file; default: the shipped map)."""
    from xner.data.conll import read_prediction_file

    gold, pred = read_prediction_file(path, scheme=scheme)
    if label_mode == "normalised":
        lmap = load_label_map(label_map)
        # Predictions go through the same map, as sentences so domain overrides still apply.
        pred_sents = [g.with_tags(p) for g, p in zip(gold, pred)]
        gold = apply_label_mode(gold, "normalised", lmap)
        pred = [list(s.tags) for s in apply_label_mode(pred_sents, "normalised", lmap)]
    return gold, pred
