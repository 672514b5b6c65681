"""Which old label a new label should start from when a model's label space grows.

A model pre-trained on CoNLL-2003 knows ``person``; a target's ``politician`` is a kind of
person. Through a label map (raw type -> generic type) each new tag is paired with the old tag
of the same prefix whose type maps to the same generic type, so fine-tuning can start the new
label's output row (and CRF scores) from what the model already learnt instead of from noise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from xner.data.corpus import Sentence
from xner.labels.normalise import LabelMap
from xner.labels.space import OUTSIDE, LabelSpace, entity_type


def label_origins(old: LabelSpace, new: LabelSpace, label_map: LabelMap | None,
                  domain: str | Mapping[str, str] = "") -> dict[int, int]:
    """``{new tag id: old tag id}`` for every appended tag of ``new`` with a counterpart in ``old``.

    ``new`` must extend ``old`` (same tags first). An old tag whose own type is the generic type
    wins over one that merely maps to it; otherwise the lowest id. Tags the map does not name
    (or whose generic type no old tag carries) are left out: they keep a fresh start.
    ``domain`` picks the map's per-domain overrides: one domain for every type, or a
    ``{type: domain}`` table (see :func:`type_domains`) for data pooled from several domains.
    """
    if label_map is None or list(new.tags[: len(old)]) != list(old.tags):
        return {}
    where = (lambda kind: domain) if isinstance(domain, str) else (lambda kind: domain.get(kind, ""))
    candidates: dict[tuple[str, str], int] = {}
    for index, tag in enumerate(old.tags):
        kind = entity_type(tag)
        if kind is None:
            continue
        generic = label_map.target(kind, where(kind)) or kind
        key = (tag[:2], generic)
        exact = kind == generic
        if key not in candidates or (exact and entity_type(old.tags[candidates[key]]) != generic):
            candidates[key] = index
    origins: dict[int, int] = {}
    for index in range(len(old), len(new)):
        tag = new.tags[index]
        kind = entity_type(tag)
        mapped = label_map.target(kind, where(kind)) if kind is not None else None
        if mapped is not None and (tag[:2], mapped) in candidates:
            origins[index] = candidates[(tag[:2], mapped)]
    return origins


def type_domains(sentences: Iterable[Sentence]) -> dict[str, str]:
    """``{entity type: domain of the first sentence that carries it}`` for pooled training data."""
    found: dict[str, str] = {}
    for sentence in sentences:
        for tag in sentence.tags:
            kind = entity_type(tag)
            if kind is not None and kind not in found:
                found[kind] = sentence.domain
    return found


def inside_conflicts(labels: LabelSpace, origins: Mapping[int, int] | None) -> list[tuple[int, int]]:
    """(from, to) pairs that enter an I- tag from another type although their origins share one.

    Copying a CRF's transitions from the origins would make ``B-person -> I-politician`` as
    likely as ``B-person -> I-person``; such pairs should score like ``O -> I-person`` instead.
    """
    origins = origins or {}

    def origin(i: int) -> int:
        return origins.get(i, i)

    tags = labels.tags
    pairs: list[tuple[int, int]] = []
    for b, to_tag in enumerate(tags):
        if not to_tag.startswith("I-"):
            continue
        for a, from_tag in enumerate(tags):
            if (a not in origins and b not in origins) or from_tag == OUTSIDE:
                continue
            same_now = entity_type(from_tag) == entity_type(to_tag)
            same_before = entity_type(tags[origin(a)]) == entity_type(tags[origin(b)])
            if same_before and not same_now:
                pairs.append((a, b))
    return pairs
