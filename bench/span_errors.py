"""Where a tagger's entity errors are: right span with the wrong type, missed spans, spurious spans.

Reads a predictions file of ``word gold predicted`` lines (blank line between sentences; plain or
.gz; bench/results/ keeps two, written by a since-deleted probe, see bench/RESULTS.md) and prints
the counts, the commonest type confusions and the recall of each gold type.

    .venv/bin/python bench/span_errors.py bench/results/encoder_map_science_seed2_test_predictions.txt.gz
"""

from __future__ import annotations

import gzip
import sys
from collections import Counter
from pathlib import Path

from xner.evaluation.metrics import extract_entities


def read(path: Path) -> list[tuple[list[str], list[str], list[str]]]:
    text = gzip.open(path, "rt", encoding="utf-8").read() if path.suffix == ".gz" else path.read_text("utf-8")
    out = []
    for block in text.strip().split("\n\n"):
        rows = [line.split(" ") for line in block.split("\n")]
        out.append(([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]))
    return out


def main(path: Path) -> int:
    confused: Counter[tuple[str, str]] = Counter()
    right: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    gold_count: Counter[str] = Counter()
    spurious = 0
    for _, gold, pred in read(path):
        g = {(a, b): k for k, _, a, b in extract_entities([gold])}
        p = {(a, b): k for k, _, a, b in extract_entities([pred])}
        for span, kind in g.items():
            gold_count[kind] += 1
            if span not in p:
                missed[kind] += 1
            elif p[span] == kind:
                right[kind] += 1
            else:
                confused[(kind, p[span])] += 1
        spurious += sum(span not in g for span in p)
    print(f"gold entities {sum(gold_count.values())}: right {sum(right.values())}, right span wrong type "
          f"{sum(confused.values())}, span missed {sum(missed.values())}; predicted spans not in gold {spurious}")
    print("commonest confusions (gold -> predicted): "
          + ", ".join(f"{a} -> {b} {n}" for (a, b), n in confused.most_common(10)))
    print("recall per gold type: " + ", ".join(f"{k} {right[k] / n:.2f}" for k, n in gold_count.most_common()))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: span_errors.py PREDICTIONS_FILE")
    raise SystemExit(main(Path(sys.argv[1])))
