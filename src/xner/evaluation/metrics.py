"""Entity-level metrics on IOB2 tag sequences, computed by seqeval.

The headline is seqeval's default mode (conlleval-compatible: an ``I-`` after ``O`` or after
another type starts an entity), micro-averaged, as the CrossNER paper reports. Strict IOB2
mode (only ``B-`` starts an entity) is reported beside it. Entity counts, ``entity_f1`` (called
every epoch) and the study's bootstrap take their spans from ``xner.data.tags.entity_spans``,
which reads IOB2 as seqeval's default mode does (checked against seqeval's own chunker in the
tests). Tags must be IOB2-shaped (``O``, ``B-x``, ``I-x``): xner converts every other scheme on read.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import Any

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from xner.data.tags import IOB2 as IOB2_TAGS
from xner.data.tags import entity_spans, tag_problem

Tags = Sequence[Sequence[str]]
# (type, sentence index, first token, last token), last inclusive like seqeval.
Entity = tuple[str, int, int, int]


@dataclass(frozen=True)
class TypeScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EntityScores:
    """Micro P/R/F1 in default (conlleval) and strict IOB2 modes, plus per-type scores."""

    precision: float
    recall: float
    f1: float
    strict_precision: float
    strict_recall: float
    strict_f1: float
    per_type: dict[str, TypeScore] = field(default_factory=dict)
    strict_per_type: dict[str, TypeScore] = field(default_factory=dict)
    n_gold: int = 0
    n_pred: int = 0
    n_correct: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_tags(gold: Tags, pred: Tags) -> None:
    """ValueError for empty input, a length mismatch or a non-IOB2 tag (naming the sentence index)."""
    if len(gold) == 0:
        raise ValueError("no sentences to evaluate")
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
    for side, tags in (("gold", gold), ("predicted", pred)):
        # Check each distinct tag once (fast); find the sentence only when one is bad.
        bad = {t for t in set(chain.from_iterable(tags)) if tag_problem(t, IOB2_TAGS) is not None}
        if bad:
            i, tag = next((i, t) for i, seq in enumerate(tags) for t in seq if t in bad)
            raise ValueError(f"sentence {i}: {side} tag {tag!r} is not IOB2 (O, B-TYPE or I-TYPE)")


def extract_entities(tags: Tags) -> list[Entity]:
    """Entities of IOB2 tags as seqeval's default mode reads them, sentence by sentence."""
    return [(kind, sent_idx, start, end - 1)
            for sent_idx, seq in enumerate(tags) for kind, start, end in entity_spans(seq)]


def _prf(correct: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def entity_f1(gold: Tags, pred: Tags) -> float:
    """Micro entity F1, seqeval default (conlleval) mode; 0.0 when nothing is predicted or gold."""
    check_tags(gold, pred)
    g, p = set(extract_entities(gold)), set(extract_entities(pred))
    return _prf(len(g & p), len(p), len(g))[2]


def _seqeval_scores(gold: Tags, pred: Tags, strict: bool) -> tuple[tuple[float, float, float], dict[str, TypeScore]]:
    g, p = [list(s) for s in gold], [list(s) for s in pred]
    kwargs: dict[str, Any] = {"mode": "strict", "scheme": IOB2} if strict else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = classification_report(g, p, output_dict=True, zero_division=0, **kwargs)
    per_type: dict[str, TypeScore] = {}
    micro = (0.0, 0.0, 0.0)
    for name, row in report.items():
        if name == "micro avg":
            micro = (float(row["precision"]), float(row["recall"]), float(row["f1-score"]))
        elif not name.endswith(" avg"):
            per_type[name] = TypeScore(
                float(row["precision"]), float(row["recall"]), float(row["f1-score"]), int(row["support"])
            )
    return micro, dict(sorted(per_type.items()))


def entity_scores(gold: Tags, pred: Tags) -> EntityScores:
    """Micro P/R/F1 (default and strict IOB2 modes) and per-type scores via seqeval."""
    check_tags(gold, pred)
    g, p = set(extract_entities(gold)), set(extract_entities(pred))
    if not g and not p:
        # seqeval's report breaks with no entity at all; every score is 0 by convention.
        return EntityScores(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    (prec, rec, f1), per_type = _seqeval_scores(gold, pred, strict=False)
    (s_prec, s_rec, s_f1), strict_per_type = _seqeval_scores(gold, pred, strict=True)
    return EntityScores(
        precision=prec,
        recall=rec,
        f1=f1,
        strict_precision=s_prec,
        strict_recall=s_rec,
        strict_f1=s_f1,
        per_type=per_type,
        strict_per_type=strict_per_type,
        n_gold=len(g),
        n_pred=len(p),
        n_correct=len(g & p),
    )
