"""docs/user-guide.md names every config key, with the defaults the code really has."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from xner.models.base import TrainConfig
from xner.models.bilstm_net import BiLSTMConfig
from xner.models.encoder import EncoderConfig
from xner.study.config import Baselines, RandomMethod, SimilarityMethod, StudyConfig, UncertaintyMethod

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text(encoding="utf-8")
LITERAL = re.compile(r'`?("[^"]*"|\[[^\]]*\]|-?\d+(?:\.\d+)?(?:e-?\d+)?|true|false|none)`?(?=[\s,;:)`]|$)')
UNDOCUMENTED = object()


def _section(start: str, end: str) -> str:
    return GUIDE[GUIDE.index(start):GUIDE.index(end, GUIDE.index(start))]


def _literal(text: str) -> Any:
    """The value a default is written as (``"adam"``, ``[3]``, ``0.3``, ``none``), else UNDOCUMENTED."""
    match = LITERAL.match(text.strip())
    if not match:
        return UNDOCUMENTED
    return json.loads({"none": "null"}.get(match.group(1), match.group(1)))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, BaseModel):
        return UNDOCUMENTED
    return value


def _check(model: type[BaseModel], documented: dict[str, str]) -> None:
    assert sorted(documented) == sorted(model.model_fields), f"{model.__name__}: keys differ"
    for key, text in documented.items():
        value = _literal(text)
        default = _plain(model.model_fields[key].get_default(call_default_factory=True))
        if value is not UNDOCUMENTED and default is not UNDOCUMENTED:
            assert value == default, f"{model.__name__}.{key}: the guide says {text!r}, the code {default!r}"


def _inline(text: str) -> dict[str, str]:
    """``\\`key\\` (default ...)`` pairs of a paragraph."""
    return dict(re.findall(r"`(\w+)`\s+\(([^()]*(?:\([^()]*\)[^()]*)*)\)", text))


def test_top_level_keys() -> None:
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", _section("### Top-level keys", "### Training"), re.M)
    documented = dict(rows)
    documented["methods"] = "see below"  # documented in its own section
    _check(StudyConfig, documented)


def test_training_keys() -> None:
    """The per-backbone table and the shared keys name every phase setting with its real default."""
    from xner.models.registry import train_defaults

    section = _section("### Training settings", "### Backbone")
    rows = re.findall(r"^\| `(\w+)`[^|]* \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|", section, re.M)
    columns = [("bilstm_crf", "source"), ("bilstm_crf", "target"), ("encoder", "source"), ("encoder", "target")]
    for key, *cells in rows:
        for (backbone, phase), cell in zip(columns, cells, strict=True):
            value = {**dict(TrainConfig()), **train_defaults(backbone, phase)}[key]  # every field, dropped or not
            text = cell.strip()
            assert (text == value) if isinstance(value, str) else float(text) == value, (key, backbone, phase)
    shared = _inline(section[section.index("The others are the same for both"):])
    documented = {**{key: "per backbone" for key, *_ in rows}, **shared}
    run_level = {"seed", "threads", "device", "precision", "deterministic"}  # the run's seed; [runtime]'s
    assert sorted(documented) == sorted(set(TrainConfig.model_fields) - run_level)
    for key, text in shared.items():
        assert _literal(text) == _plain(TrainConfig.model_fields[key].get_default()), key


@pytest.mark.parametrize(("model", "start", "end"), [
    (BiLSTMConfig, 'For `backbone = "bilstm_crf"`', 'For `backbone = "encoder"`'),
    (EncoderConfig, 'For `backbone = "encoder"`', "### Methods"),
])
def test_backbone_keys(model: type[BaseModel], start: str, end: str) -> None:
    _check(model, {k: v for k, v in _inline(_section(start, end)).items() if k not in ("backbone",)})


@pytest.mark.parametrize(("model", "table"), [(RandomMethod, "random"), (SimilarityMethod, "similarity"),
                                              (UncertaintyMethod, "uncertainty"), (Baselines, "baselines")])
def test_method_keys(model: type[BaseModel], table: str) -> None:
    row = re.search(rf"^\| `\[methods\.{table}\]` \| ([^|]+) \|", GUIDE, re.M)
    assert row, table
    _check(model, _inline(row.group(1)))
