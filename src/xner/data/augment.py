"""Mention replacement: more training sentences for a small target set, from its own entities.

Each copy of a sentence has every entity mention, with probability ``p``, swapped for another
mention of the same type drawn from the same sentences (Dai & Adel, 2020, call it "mention
replacement"). Sentence structure and types stay; the names vary. Only the data given is used,
so dev and test stay unseen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from xner.data.corpus import Sentence
from xner.data.schemes import entity_spans

Mention = tuple[str, ...]


def mentions_by_type(sentences: Sequence[Sentence]) -> dict[str, list[Mention]]:
    """Every distinct mention (token tuple) of each entity type, in first-seen order."""
    seen: dict[str, dict[Mention, None]] = defaultdict(dict)
    for s in sentences:
        for kind, start, end in entity_spans(s.tags):
            seen[kind][s.tokens[start:end]] = None
    return {kind: list(found) for kind, found in seen.items()}


def _replace(sentence: Sentence, pool: dict[str, list[Mention]], p: float,
             rng: np.random.Generator) -> Sentence:
    tokens: list[str] = []
    tags: list[str] = []
    last = 0
    for kind, start, end in entity_spans(sentence.tags):
        tokens += sentence.tokens[last:start]
        tags += sentence.tags[last:start]
        choices = pool.get(kind, [])
        if len(choices) > 1 and rng.random() < p:
            mention = choices[int(rng.integers(len(choices)))]
        else:
            mention = sentence.tokens[start:end]
        tokens += mention
        tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(mention) - 1)
        last = end
    tokens += sentence.tokens[last:]
    tags += sentence.tags[last:]
    return Sentence(tuple(tokens), tuple(tags), sentence.domain, sentence.file, sentence.line)


def mention_replacement(sentences: Sequence[Sentence], copies: int, p: float = 0.5,
                        seed: int = 0) -> list[Sentence]:
    """The sentences followed by ``copies`` replaced copies of each (deterministic for ``seed``).

    A copy that came out equal to its original (no entity, or nothing drawn) is still kept, so
    every sentence keeps the same weight. Copies point at their original's file and line.
    """
    if copies < 0 or not 0 <= p <= 1:
        raise ValueError("copies must be >= 0 and p in [0, 1]")
    rng = np.random.default_rng(seed)
    pool = mentions_by_type(sentences)
    out = list(sentences)
    for _ in range(copies):
        out += [_replace(s, pool, p, rng) for s in sentences]
    return out
