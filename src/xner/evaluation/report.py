"""A full evaluation report: entity scores, token-level report and a tag confusion matrix."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.metrics import classification_report, confusion_matrix

from xner.atomic import write_text
from xner.errors import DataError
from xner.evaluation.metrics import check_tags, entity_scores
from xner.evaluation.plots import plot_confusion

_TOKEN_SUMMARY_ROWS = ("accuracy", "micro avg", "macro avg", "weighted avg")


def _tag_lists(seqs: Sequence[Any]) -> list[list[str]]:
    """Accept tag lists or Sentence objects (their ``.tags``)."""
    return [list(getattr(s, "tags", s)) for s in seqs]


def tag_order(tags: set[str]) -> list[str]:
    """``O`` first, then by entity type with ``B-`` before ``I-``: rows of one type sit together."""
    rest = sorted((t for t in tags if t != "O"), key=lambda t: (t[2:], t[:2]))
    return (["O"] if "O" in tags else []) + rest


def _plain(obj: Any) -> Any:
    """numpy scalars -> Python numbers so the report is JSON-able."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def evaluation_report(gold: Sequence[Any], pred: Sequence[Any]) -> dict[str, Any]:
    """Entity scores (default + strict), token classification report and tag confusion matrix."""
    gold_tags, pred_tags = _tag_lists(gold), _tag_lists(pred)
    check_tags(gold_tags, pred_tags)
    flat_gold = [t for seq in gold_tags for t in seq]
    flat_pred = [t for seq in pred_tags for t in seq]
    labels = tag_order(set(flat_gold) | set(flat_pred))
    token = classification_report(flat_gold, flat_pred, labels=labels, output_dict=True, zero_division=0)
    for row in token.values():
        if isinstance(row, dict):  # sklearn gives supports as floats; they are counts
            row["support"] = int(row["support"])
    matrix = confusion_matrix(flat_gold, flat_pred, labels=labels) if flat_gold else np.zeros((0, 0), int)
    return _plain(
        {
            "n_sentences": len(gold_tags),
            "n_tokens": len(flat_gold),
            "entity": entity_scores(gold_tags, pred_tags).to_json(),
            "token": token,
            "confusion": {"labels": labels, "matrix": matrix.tolist()},
        }
    )


def scored_report(gold: Sequence[Any], pred: Sequence[Any], source: Mapping[str, Any],
                  path: Path | None = None) -> dict[str, Any]:
    """:func:`evaluation_report` with ``source`` (what was scored) added; an empty input or a
    tag-count mismatch is a DataError naming ``path``, the file or model that was read."""
    try:
        report = evaluation_report(gold, pred)
    except ValueError as err:
        raise DataError(str(err), path=path) from None
    report["source"] = dict(source)
    return report


def write_confusion(report_or_matrix: Mapping[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``confusion.csv`` and ``confusion.png`` (rows gold, columns predicted) to ``out_dir``.

    Takes a whole report or its ``{"labels": [...], "matrix": [[...]]}`` part.
    """
    conf = report_or_matrix.get("confusion", report_or_matrix)
    labels, matrix = list(conf["labels"]), [list(map(int, row)) for row in conf["matrix"]]
    out = Path(out_dir)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["gold\\pred", *labels])
    for label, row in zip(labels, matrix):
        writer.writerow([label, *row])
    csv_path = out / "confusion.csv"
    write_text(csv_path, buffer.getvalue())
    png_path = plot_confusion(np.asarray(matrix).reshape(len(labels), len(labels)), labels, out / "confusion.png")
    return csv_path, png_path


def _f(x: float) -> str:
    return f"{x:.4f}"


def _entity_tables(entity: Mapping[str, Any]) -> tuple[Table, Table]:
    head = Table(title="Entity-level scores (micro)")
    for col in ("mode", "precision", "recall", "F1"):
        head.add_column(col, justify="left" if col == "mode" else "right")
    head.add_row("default (conlleval)", _f(entity["precision"]), _f(entity["recall"]), _f(entity["f1"]))
    head.add_row("strict IOB2", _f(entity["strict_precision"]), _f(entity["strict_recall"]), _f(entity["strict_f1"]))
    head.caption = f"gold {entity['n_gold']}, predicted {entity['n_pred']}, correct {entity['n_correct']}"
    types = Table(title="Per entity type (default mode)")
    for col in ("type", "precision", "recall", "F1", "support", "strict F1"):
        types.add_column(col, justify="left" if col == "type" else "right")
    strict = entity.get("strict_per_type", {})
    for name, row in entity["per_type"].items():
        strict_f1 = _f(strict[name]["f1"]) if name in strict else "-"
        types.add_row(name, _f(row["precision"]), _f(row["recall"]), _f(row["f1"]), str(row["support"]), strict_f1)
    return head, types


def _token_table(token: Mapping[str, Any]) -> Table:
    table = Table(title="Token-level classification report")
    for col in ("tag", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "tag" else "right")
    for name, row in token.items():
        if name not in _TOKEN_SUMMARY_ROWS:
            table.add_row(name, _f(row["precision"]), _f(row["recall"]), _f(row["f1-score"]), str(row["support"]))
    table.add_section()
    for name in _TOKEN_SUMMARY_ROWS:
        row = token.get(name)
        if isinstance(row, Mapping):
            table.add_row(name, _f(row["precision"]), _f(row["recall"]), _f(row["f1-score"]), str(row["support"]))
        elif row is not None:  # sklearn gives accuracy as one number
            table.add_row(name, "", "", _f(row), "")
    return table


def render_report(report: Mapping[str, Any], console: Console | None = None) -> None:
    """Print the headline entity scores, the per-type table and the token report."""
    console = console or Console()
    head, types = _entity_tables(report["entity"])
    console.print(f"{report['n_sentences']} sentences, {report['n_tokens']} tokens")
    console.print(head)
    console.print(types)
    console.print(_token_table(report["token"]))
