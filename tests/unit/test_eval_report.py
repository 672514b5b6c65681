"""evaluation_report, write_confusion and render_report on hand-computed inputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rich.console import Console

from xner.data.corpus import Sentence
from xner.evaluation.report import evaluation_report, render_report, tag_order, write_confusion

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
PRED = [["B-PER", "O", "O", "B-LOC"], ["O", "B-LOC"]]
# tokens (gold -> pred): B-PER->B-PER, I-PER->O, O->O, B-LOC->B-LOC, O->O, B-ORG->B-LOC.
# Token report:
#   O:     gold 2, pred 3, correct 2 -> P 2/3, R 1
#   B-LOC: gold 1, pred 2, correct 1 -> P 1/2, R 1
#   B-ORG: gold 1, pred 0            -> P 0, R 0
#   B-PER: 1/1/1 -> 1, 1;  I-PER: gold 1, pred 0 -> 0, 0
#   accuracy = 4 correct of 6 tokens = 2/3
# Entities: gold {PER[0..1], LOC, ORG}, pred {PER[0..0], LOC, LOC}: correct 1 (LOC in s0)
#   -> P = 1/3, R = 1/3, F1 = 1/3.


def test_report_values_and_shape() -> None:
    r = evaluation_report(GOLD, PRED)
    assert (r["n_sentences"], r["n_tokens"]) == (2, 6)
    tok = r["token"]
    assert tok["O"]["precision"] == pytest.approx(2 / 3) and tok["O"]["recall"] == 1.0
    assert tok["B-LOC"]["precision"] == pytest.approx(0.5) and tok["B-LOC"]["support"] == 1
    assert tok["B-ORG"]["recall"] == 0.0 and tok["I-PER"]["support"] == 1
    assert tok["accuracy"] == pytest.approx(2 / 3)
    assert r["entity"]["f1"] == pytest.approx(1 / 3)
    conf = r["confusion"]
    assert conf["labels"] == ["O", "B-LOC", "B-ORG", "B-PER", "I-PER"]
    # rows gold, columns predicted
    assert conf["matrix"] == [
        [2, 0, 0, 0, 0],  # O
        [0, 1, 0, 0, 0],  # B-LOC
        [0, 1, 0, 0, 0],  # B-ORG -> B-LOC
        [0, 0, 0, 1, 0],  # B-PER
        [1, 0, 0, 0, 0],  # I-PER -> O
    ]
    json.dumps(r)  # plain data all the way down (no numpy scalars)


def test_report_accepts_sentences() -> None:
    gold = [Sentence(tuple(f"w{i}" for i in range(len(t))), tuple(t)) for t in GOLD]
    assert evaluation_report(gold, PRED) == evaluation_report(GOLD, PRED)


def test_report_rejects_mismatch() -> None:
    with pytest.raises(ValueError, match="sentence 1"):
        evaluation_report(GOLD, [PRED[0], ["O"]])


def test_tag_order_groups_types_b_before_i() -> None:
    assert tag_order({"I-PER", "B-LOC", "O", "B-PER", "I-LOC"}) == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def test_write_confusion_csv_and_png(tmp_path: Path) -> None:
    csv_path, png_path = write_confusion(evaluation_report(GOLD, PRED), tmp_path / "out")
    rows = list(csv.reader(csv_path.open(encoding="utf-8")))
    assert rows[0] == ["gold\\pred", "O", "B-LOC", "B-ORG", "B-PER", "I-PER"]
    assert rows[3] == ["B-ORG", "0", "1", "0", "0", "0"]
    assert png_path.read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["confusion.csv", "confusion.png"]


def test_render_report_prints_headline_types_and_tokens() -> None:
    console = Console(record=True, width=140)
    render_report(evaluation_report(GOLD, PRED), console)
    text = console.export_text()
    assert "2 sentences, 6 tokens" in text
    assert "default (conlleval)" in text and "strict IOB2" in text and "0.3333" in text
    assert "Per entity type" in text and "ORG" in text
    assert "Token-level" in text and "accuracy" in text and "0.6667" in text
