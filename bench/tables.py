"""Print the tables of bench/RESULTS.md from the result files in bench/results/.

A table in RESULTS.md sits between ``<!-- table:NAME -->`` and ``<!-- /table -->``; NAME is one of
the tables of bench/table_sources.py, which reads the numbers from the result files.

    python bench/tables.py                            # print every table
    python bench/tables.py --check bench/RESULTS.md   # exit 1 naming each table that differs
    python bench/tables.py --write bench/RESULTS.md   # rewrite the tables in place (atomic)

``--results DIR`` reads another results folder (default: bench/results beside this script).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from table_sources import TABLES  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# A block's body may be empty; it never runs into the next block.
BLOCK = re.compile(r"(<!-- table:(?P<name>[\w-]+) -->\n)(?P<body>(?:(?!<!-- table:).)*?)(<!-- /table -->)", re.DOTALL)


def render(name: str, results: Path = RESULTS) -> str:
    """The Markdown table ``name``, printed from the files in ``results``."""
    return TABLES[name](results)


def differences(text: str, results: Path = RESULTS) -> list[str]:
    """One line per table of ``text`` that is unknown or differs from what the files give."""
    problems = []
    for match in BLOCK.finditer(text):
        name = match["name"]
        if name not in TABLES:
            problems.append(f"table {name}: no such table in bench/table_sources.py")
        elif match["body"].strip() != render(name, results):
            problems.append(f"table {name}: differs from what bench/tables.py prints from {results}")
    return problems


def rewritten(text: str, results: Path = RESULTS) -> str:
    """``text`` with every known table's body replaced by the table printed from the files."""
    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        body = render(name, results) + "\n" if name in TABLES else match["body"]
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(replace, text)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``path`` and rename it over ``path``."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", type=Path, metavar="MARKDOWN", help="exit 1 if a table in MARKDOWN differs")
    action.add_argument("--write", type=Path, metavar="MARKDOWN", help="rewrite the tables in MARKDOWN in place")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results folder (default: bench/results)")
    args = parser.parse_args(argv)
    if args.check:
        text = args.check.read_text(encoding="utf-8")
        problems = differences(text, args.results)
        for line in problems:
            print(f"{args.check}: {line}", file=sys.stderr)
        if not problems:
            print(f"{args.check}: {len(BLOCK.findall(text))} tables match the result files")
        return 1 if problems else 0
    if args.write:
        text = args.write.read_text(encoding="utf-8")
        new = rewritten(text, args.results)
        if new != text:
            write_atomic(args.write, new)
        print(f"{args.write}: {'tables rewritten' if new != text else 'already up to date'}")
        return 0
    for name in TABLES:
        print(f"<!-- table:{name} -->\n{render(name, args.results)}\n<!-- /table -->\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
