"""Every bad review/export file fails with its expected one-line message, and writes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xner.errors import DataError
from xner.selection.annotate import import_reviewed

ROOT = Path(__file__).resolve().parents[1] / "fixtures"
BAD = ROOT / "bad" / "annotate"
EXPECTED = json.loads((BAD / "expected.json").read_text())


def test_there_are_enough_bad_fixtures() -> None:
    assert len(EXPECTED) >= 6
    assert sorted(EXPECTED) == sorted(p.name for p in BAD.iterdir() if p.name != "expected.json")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_expected_error(name: str, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "annotate" / "toy", tmp_path / "toy")
    data = tmp_path / "toy" / "train.txt"
    before = data.read_bytes()
    with pytest.raises(DataError) as caught:
        import_reviewed(BAD / name, data)
    message = str(caught.value)
    want = EXPECTED[name]
    where = f"{BAD / name}:{want['line']}: " if want["line"] else f"{BAD / name}: "
    assert message.startswith("error: " + where), message
    assert want["message"] in message, message
    assert "\n" not in message
    assert data.read_bytes() == before
    assert sorted(p.name for p in data.parent.iterdir()) == ["dev.txt", "test.txt", "train.txt"]


def test_annotate_and_labelstudio_do_not_import_each_other() -> None:
    import ast

    import xner.selection.labelstudio as labelstudio

    tree = ast.parse(Path(labelstudio.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "xner.selection.annotate" not in imported
