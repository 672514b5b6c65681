"""bench/RESULTS.md's tables are what bench/tables.py prints from bench/results/, and a changed
number in a result file is caught by name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "tables.py"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_results_md_matches_the_result_files() -> None:
    done = _run("--check", str(RESULTS_MD))
    assert done.returncode == 0, done.stderr
    assert "tables match" in done.stdout


def test_every_table_is_in_results_md() -> None:
    printed = _run().stdout
    names = [line.split(":", 1)[1].removesuffix(" -->") for line in printed.splitlines()
             if line.startswith("<!-- table:")]
    text = RESULTS_MD.read_text(encoding="utf-8")
    assert names and [n for n in names if f"<!-- table:{n} -->" not in text] == []


def _copy_with_speed(tmp_path: Path, words_per_second: float) -> Path:
    """A copy of bench/results whose speed_bilstm.json gives another 1-thread prediction speed."""
    results = tmp_path / "results"
    shutil.copytree(ROOT / "bench" / "results", results,
                    ignore=shutil.ignore_patterns("*.gz", "*.log", "*.png"))
    path = results / "speed_bilstm.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["inference"][0]["words_per_second"] = words_per_second
    path.write_text(json.dumps(data), encoding="utf-8")
    return results


def test_a_changed_number_is_named(tmp_path: Path) -> None:
    results = _copy_with_speed(tmp_path, 12345.6)
    done = _run("--check", str(RESULTS_MD), "--results", str(results))
    assert done.returncode == 1
    assert "table bilstm_speed" in done.stderr
    assert "bilstm_quality" not in done.stderr  # only the table that reads the changed file


def test_write_regenerates_a_table_in_place(tmp_path: Path) -> None:
    results = _copy_with_speed(tmp_path, 12345.6)
    doc = tmp_path / "RESULTS.md"
    shutil.copy(RESULTS_MD, doc)
    assert _run("--write", str(doc), "--results", str(results)).returncode == 0
    text = doc.read_text(encoding="utf-8")
    speed = json.loads((ROOT / "bench" / "results" / "speed_bilstm.json").read_text(encoding="utf-8"))
    train, words = speed["training"][0]["sentences_per_second"], speed["inference"][0]["words_per_second"]
    assert f"| 1 | {train} | 12345.6 |" in text and f"| 1 | {train} | {words} |" not in text
    assert _run("--check", str(doc), "--results", str(results)).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RESULTS.md", "results"]  # no temp file left
    # Everything outside the changed table is untouched.
    before = RESULTS_MD.read_text(encoding="utf-8").replace(f"| 1 | {train} | {words} |", f"| 1 | {train} | 12345.6 |")
    assert text == before


def test_unknown_table_name_fails(tmp_path: Path) -> None:
    doc = tmp_path / "RESULTS.md"
    doc.write_text("x\n<!-- table:no_such_table -->\n| a |\n<!-- /table -->\n", encoding="utf-8")
    done = _run("--check", str(doc))
    assert done.returncode == 1 and "no_such_table" in done.stderr
