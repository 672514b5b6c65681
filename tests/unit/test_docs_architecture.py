"""docs/architecture.md stays true: its module map lists exactly the modules in src/xner, and
its import table is the import graph measured on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "xner"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
STAGES = ("data", "labels", "models", "training", "transfer", "selection", "run", "evaluation", "study", "cli")


def _modules() -> set[str]:
    """``data/conll.py``-style paths of every module (package __init__ files left out)."""
    return {str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if p.name != "__init__.py"}


def _documented() -> set[str]:
    """Module paths named in the map's tables: the first cell, under its ``### stage/`` heading."""
    section = DOC[DOC.index("## Module map"):DOC.index("## Who imports whom")]
    found: set[str] = set()
    prefix = ""
    for line in section.splitlines():
        heading = re.match(r"### `(\w+)/`", line)
        if heading:
            prefix = heading.group(1) + "/"
        elif line.startswith("### "):
            prefix = ""
        cell = re.match(r"\| `([\w/]+\.py)` \|", line)
        if cell:
            found.add(prefix + cell.group(1))
    return found


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        stage = _stage(".".join(rel.parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                target = _stage(name)
                if name.startswith("xner.") and target != stage:
                    edges.setdefault(stage, set()).add(target.removesuffix(".py"))
    return edges


def test_module_map_lists_every_module() -> None:
    # cli/__init__.py (the app and main) is described in the prose of the cli section.
    assert sorted(_modules() - _documented() - {"cli/__init__.py"}) == []
    assert sorted(_documented() - _modules()) == []


def test_import_table_matches_the_source() -> None:
    section = DOC[DOC.index("## Who imports whom"):DOC.index("## Model directories")]
    graph = _graph()
    for stage in (*STAGES, "api"):
        row = re.search(rf"^\| `{stage}` \| (.+) \|$", section, re.M)
        if stage == "cli":
            assert row and "everything" in row.group(1)
            continue
        assert row, stage
        known = {p.stem if p.is_file() else p.name for p in SRC.iterdir() if not p.name.startswith("_")}
        documented = set(re.findall(r"`(\w+)`", row.group(1))) & known
        code = sorted(graph.get(stage, set()))
        assert documented == graph.get(stage, set()), f"{stage}: doc {sorted(documented)}, code {code}"
