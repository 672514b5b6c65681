"""Label Studio: tasks with pre-annotations for review, and import of its JSON export.

A task's text is the sentence's tokens joined by single spaces, so every token has exact
character offsets. The model's entities go in as ``predictions`` (character spans) whose
``score`` is a confidence, ``1 -`` the highest token entropy divided by its maximum (the log of
the number of tags): Label Studio sorts by it, lowest (most uncertain) first. The entropies
stay in the task data (``entropy``: the sentence's score; ``uncertain``: the tokens above the
threshold, also shown in a header line by the labelling config). Importing reads Label
Studio's full JSON export ("JSON" in its export menu), takes each task's latest
non-cancelled annotation and turns its spans back into IOB2 labels.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeGuard
from xml.sax.saxutils import quoteattr

from xner.data.tags import entity_spans, iob2_tags
from xner.errors import DataError
from xner.selection.review import Reviewed, ReviewItem

FROM_NAME, TO_NAME = "label", "text"


def token_offsets(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) character offsets of each token in ``" ".join(tokens)``."""
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return offsets


def confidence(item: ReviewItem, n_tags: int, base: float | None = None) -> float:
    """``1 -`` the sentence's highest token entropy over its maximum, ``log(n_tags)``: in [0, 1]."""
    if n_tags < 2 or not item.entropy:
        return 1.0
    most = math.log(n_tags) / (math.log(base) if base else 1.0)
    return min(1.0, max(0.0, 1.0 - max(item.entropy) / most))


def make_task(item: ReviewItem, labels: Sequence[str], base: float | None = None) -> dict[str, Any]:
    offsets = token_offsets(item.tokens)
    text = " ".join(item.tokens)
    uncertain = [{"index": i, "token": t, "start": offsets[i][0], "end": offsets[i][1],
                  "entropy": round(item.entropy[i], 4)}
                 for i, t in enumerate(item.tokens) if item.uncertain[i]]
    shown = ", ".join(f"{u['token']} ({u['entropy']:.2f})" for u in uncertain) or "none"
    result = [{
        "id": f"p{k}", "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
        "value": {"start": offsets[a][0], "end": offsets[b - 1][1],
                  "text": text[offsets[a][0]:offsets[b - 1][1]], "labels": [kind]},
    } for k, (kind, a, b) in enumerate(entity_spans(item.tags))]
    return {
        "data": {"text": text, "sid": item.sid, "tokens": list(item.tokens), "labels": list(labels),
                 "uncertain": uncertain, "uncertain_text": f"Uncertain: {shown}", "entropy": round(item.score, 4)},
        "predictions": [{"model_version": "xner", "score": round(confidence(item, len(labels), base), 4),
                         "result": result}],
    }


def make_tasks(items: Sequence[ReviewItem], labels: Sequence[str], base: float | None = None) -> list[dict[str, Any]]:
    return [make_task(item, labels, base) for item in items]


def config_labels(config: str) -> list[str] | None:
    """The entity types of a labelling config's xner ``Labels`` control (None: it has none)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(config)
    except ET.ParseError:
        return None
    for control in root.iter("Labels"):
        if control.get("name") == FROM_NAME and control.get("toName") == TO_NAME:
            return [str(label.get("value")) for label in control.iter("Label")]
    return None


def label_config(types: Sequence[str]) -> str:
    """A Label Studio labelling config listing the entity types (word-granular spans)."""
    lines = ["<View>", '  <Header value="$uncertain_text"/>',
             f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}">']
    lines += [f"    <Label value={quoteattr(t)}/>" for t in types]
    lines += ["  </Labels>", f'  <Text name="{TO_NAME}" value="$text" granularity="word"/>', "</View>"]
    return "\n".join(lines) + "\n"


def _load(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"not valid JSON: {err.msg}", path, err.lineno) from err
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read Label Studio export ({err.__class__.__name__})", path) from err
    if not isinstance(data, list):
        raise DataError("expected a Label Studio JSON export (a list of tasks)", path)
    return data


def _latest_annotation(task: dict[str, Any], item: Reviewed) -> list[Any]:
    raw = task.get("annotations") or []
    if not isinstance(raw, list):
        raise item.fail("'annotations' must be a list (is this a Label Studio JSON export?)")
    annotations = [a for a in raw if isinstance(a, dict) and not a.get("was_cancelled")]
    if not annotations:
        raise item.fail("no annotation: label the task in Label Studio or remove it from the file")
    result = annotations[-1].get("result")
    if not isinstance(result, list):
        raise item.fail("annotation has no 'result' list")
    return result


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _span_tags(item: Reviewed, result: list[Any], types: set[str] | None) -> list[str]:
    """IOB2 tags from an annotation's character spans, which must sit on token boundaries."""
    offsets = token_offsets(item.tokens)
    starts = {s: i for i, (s, _) in enumerate(offsets)}
    ends = {e: i for i, (_, e) in enumerate(offsets)}
    spans: list[tuple[str, int, int]] = []
    taken = [False] * len(item.tokens)
    for region in result:
        if not isinstance(region, dict) or region.get("type") != "labels":
            continue  # relations, comments and other controls carry no entity labels
        value = region.get("value")
        if not isinstance(value, dict):
            raise item.fail(f"span {region.get('id', '?')} has no 'value' object")
        start, end, names = value.get("start"), value.get("end"), value.get("labels")
        if not _is_int(start) or not _is_int(end) or not isinstance(names, list) \
                or len(names) != 1 or not isinstance(names[0], str):
            raise item.fail(f"span {region.get('id', '?')} needs integer start/end and exactly one label")
        kind = names[0]
        if types is not None and kind not in types:
            raise item.fail(f"unknown label {kind!r} (not in the label space: {' '.join(sorted(types))})")
        first, last = starts.get(start), ends.get(end)
        if first is None or last is None or last < first:
            shown = " ".join(item.tokens)[start:end] if 0 <= start < end else ""
            raise item.fail(f"span {start}-{end} {shown!r} is not on token boundaries")
        if any(taken[first:last + 1]):
            raise item.fail(f"spans overlap at token {item.tokens[first]!r} (offset {start})")
        taken[first:last + 1] = [True] * (last - first + 1)
        spans.append((kind, first, last + 1))
    return iob2_tags(spans, len(item.tokens))


def _reviewed(task: Any, number: int, path: str) -> tuple[Reviewed, list[str] | None]:
    where = f"task {task.get('id', number) if isinstance(task, dict) else number}"
    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str) or not isinstance(data.get("tokens"), list):
        raise DataError(f"{where}: no data.sid/data.tokens (was it made by 'xner annotate export'?)", path)
    tokens = [str(t) for t in data["tokens"]]
    item = Reviewed(data["sid"], tokens, [], path, None, None, f"{where} ({data['sid']}): ")
    if data.get("text") != " ".join(tokens):
        raise item.fail("the task text was changed; edit labels only")
    labels = data.get("labels")
    return item, [str(t) for t in labels] if isinstance(labels, list) else None


def read_export(path: Path) -> tuple[list[Reviewed], list[str] | None]:
    """Reviewed sentences from a Label Studio JSON export, and the exported label space."""
    return read_tasks(_load(Path(path)), str(path))


def read_tasks(tasks: Sequence[Any], where: str) -> tuple[list[Reviewed], list[str] | None]:
    """Reviewed sentences from exported tasks (``where`` names them in errors), and the label space."""
    items: list[Reviewed] = []
    labels: list[str] | None = None
    for number, task in enumerate(tasks, start=1):
        item, task_labels = _reviewed(task, number, where)
        labels = labels or task_labels
        types = {t[2:] for t in labels if t != "O"} if labels else None
        item.tags = _span_tags(item, _latest_annotation(task, item), types)
        items.append(item)
    return items, labels
