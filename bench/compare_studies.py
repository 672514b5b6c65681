"""Compare the runs two study folders share (the same run id): equal metrics, and durations.

    .venv/bin/python bench/compare_studies.py studies/fit-reuse studies/full \
        --out bench/results/fit_reuse.json

For each result run (pre-trainings left out) done in both stores: method, setting, label mode,
seed, whether the whole metrics record is identical, test F1 and seconds in each. Prints a
summary per method and writes the records as JSON (``--out``), so RESULTS.md can print from them.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

QUERY = """select n.id, n.method, n.setting, n.label_mode, n.seed, n.metrics, o.metrics, n.seconds, o.seconds
           from runs n join other.runs o on n.id = o.id
           where n.status = 'done' and o.status = 'done' and n.method != 'pretrain'
           order by n.label_mode, n.method, n.setting, n.seed"""


def compare(new: Path, old: Path) -> list[dict[str, Any]]:
    """The shared runs of the stores in ``new`` and ``old`` (study folders)."""
    db = sqlite3.connect(f"file:{new / 'study.db'}?mode=ro", uri=True)
    try:
        db.execute("attach database ? as other", (f"file:{old / 'study.db'}?mode=ro",))
        rows = db.execute(QUERY).fetchall()
    finally:
        db.close()
    out = []
    for run_id, method, setting, mode, seed, new_metrics, old_metrics, new_s, old_s in rows:
        a, b = json.loads(new_metrics), json.loads(old_metrics)
        out.append({"id": run_id, "method": method, "setting": setting, "label_mode": mode, "seed": seed,
                    "identical": a == b, "test_f1": a.get("test_f1"), "old_test_f1": b.get("test_f1"),
                    "seconds": round(new_s, 1), "old_seconds": round(old_s, 1)})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("new", type=Path, help="study folder whose runs are compared")
    p.add_argument("old", type=Path, help="study folder they are compared with")
    p.add_argument("--out", type=Path, help="write the per-run records here (JSON)")
    args = p.parse_args(argv)
    runs = compare(args.new, args.old)
    by_method: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        by_method[run["method"]].append(run)
    for method, items in sorted(by_method.items()):
        print(f"{method}: {len(items)} runs, {sum(r['identical'] for r in items)} identical, "
              f"{sum(r['seconds'] for r in items):.0f} s vs {sum(r['old_seconds'] for r in items):.0f} s")
    print(f"all: {len(runs)} runs, {sum(r['identical'] for r in runs)} identical, "
          f"{sum(r['seconds'] for r in runs):.0f} s vs {sum(r['old_seconds'] for r in runs):.0f} s")
    if args.out:
        args.out.write_text(json.dumps({"new": str(args.new), "old": str(args.old), "runs": runs}, indent=1) + "\n",
                            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
