"""docs/cli.md is exactly what docs/gen_cli_reference.py makes from the current --help texts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_up_to_date() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_cli_reference.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + "\n(rerun: .venv/bin/python docs/gen_cli_reference.py)"


def test_cli_reference_covers_every_command() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in ("xner train", "xner predict", "xner evaluate", "xner data check", "xner study run",
                    "xner annotate import", "xner select random"):
        assert f"\n## {command}\n" in text
