"""Fuzz the annotation importer (review.conll and Label Studio JSON) with mutated bytes.

Each example imports into a fresh copy of the toy data. On an error nothing may be written;
on success the data must still read back as valid CoNLL with the same tokens.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _fuzz import FUZZ, check_outcome, fuzzed, json_mutations
from hypothesis import HealthCheck, given, settings

from xner.data.conll import read_conll
from xner.selection.annotate import import_reviewed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TOY = FIXTURES / "annotate" / "toy"
# Valid seeds: the bad fixtures of engineer E1 with their one mistake corrected.
SEED_REVIEW = (FIXTURES / "bad" / "annotate" / "unknown_label.conll").read_bytes().replace(
    b"B-city", b"B-location")
SEED_LS = (FIXTURES / "bad" / "annotate" / "ls_unknown_label.json").read_bytes().replace(
    b'"scientist"', b'"person"')


def _import(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copytree(TOY, root / "toy")
        target = root / "toy" / "train.txt"
        before = target.read_bytes()
        path = root / f"edited{suffix}"
        path.write_bytes(data)
        outcome = check_outcome(lambda: import_reviewed(path, target), str(path))
        if outcome == "error":
            assert target.read_bytes() == before
        else:
            original = read_conll(TOY / "train.txt")
            assert [s.tokens for s in read_conll(target)] == [s.tokens for s in original]
        assert sorted(p.name for p in target.parent.iterdir()) == ["dev.txt", "test.txt", "train.txt"]


def test_seeds_import(tmp_path: Path) -> None:
    for data, suffix in ((SEED_REVIEW, ".conll"), (SEED_LS, ".json")):
        shutil.copytree(TOY, tmp_path / suffix[1:] / "toy")
        path = tmp_path / f"edited{suffix}"
        path.write_bytes(data)
        assert import_reviewed(path, tmp_path / suffix[1:] / "toy" / "train.txt").sentences == 1


@FUZZ
@given(fuzzed(SEED_REVIEW))
def test_review_import_loads_or_fails_cleanly(data: bytes) -> None:
    _import(data, ".conll")


@FUZZ
@given(fuzzed(SEED_LS))
def test_label_studio_import_loads_or_fails_cleanly(data: bytes) -> None:
    _import(data, ".json")


# ---------------------------------------------------------------- structured JSON mutations

@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_mutations(json.loads(SEED_LS)))
def test_label_studio_import_survives_wrong_json_types(tree: Any) -> None:
    _import(json.dumps(tree).encode(), ".json")


def _ls_case(change: Callable[[Any], None]) -> bytes:
    tree = json.loads(SEED_LS)
    change(tree)
    return json.dumps(tree).encode()


def _region(tree: Any) -> Any:
    return tree[0]["annotations"][0]["result"][0]


# Regression cases: each of these once raised TypeError/AttributeError in labelstudio.py.
LS_WRONG_TYPES = {
    # _span_tags: ``kind not in types`` with an unhashable label -> TypeError
    "label is a list": lambda t: _region(t)["value"].__setitem__("labels", [["person"]]),
    # _span_tags: ``region.get("value") or {}`` then ``.get`` on a list -> AttributeError
    "value is a list": lambda t: _region(t).__setitem__("value", [1]),
    # _latest_annotation: iterates ``task.get("annotations")`` that is a number -> TypeError
    "annotations is a number": lambda t: t[0].__setitem__("annotations", 5),
}


@pytest.mark.parametrize("name", sorted(LS_WRONG_TYPES))
def test_label_studio_wrong_types_are_data_errors(name: str) -> None:
    _import(_ls_case(LS_WRONG_TYPES[name]), ".json")
