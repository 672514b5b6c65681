"""Mention replacement: types and structure kept, names drawn from the same sentences."""

from __future__ import annotations

import pytest

from xner.data.augment import mention_replacement, mentions_by_type
from xner.data.corpus import Sentence


def _s(pairs: str, line: int) -> Sentence:
    words = [w.rsplit("/", 1) for w in pairs.split()]
    return Sentence(tuple(w for w, _ in words), tuple(t for _, t in words), "ai", "train.txt", line)


DATA = [
    _s("Geoffrey/B-researcher Hinton/I-researcher studied/O backpropagation/B-algorithm ./O", 1),
    _s("LeCun/B-researcher used/O convolutional/B-algorithm networks/I-algorithm at/O NYU/B-university", 7),
    _s("nothing/O here/O", 12),
]


def test_mentions_by_type_lists_each_mention_once() -> None:
    pool = mentions_by_type(DATA + DATA)
    assert pool == {"researcher": [("Geoffrey", "Hinton"), ("LeCun",)],
                    "algorithm": [("backpropagation",), ("convolutional", "networks")],
                    "university": [("NYU",)]}


def test_copies_keep_types_and_context_and_draw_from_the_pool() -> None:
    out = mention_replacement(DATA, copies=5, p=1.0, seed=3)
    assert out[:3] == DATA and len(out) == 18
    pool = mentions_by_type(DATA)
    changed = 0
    for i, copy in enumerate(out[3:]):
        original = DATA[i % 3]
        assert (copy.file, copy.line, copy.domain) == (original.file, original.line, original.domain)
        assert len(copy.tokens) == len(copy.tags)
        got = mentions_by_type([copy])
        assert [k for k in got] == [k for k in mentions_by_type([original])]  # same types, same order
        assert all(m in pool[k] for k, ms in got.items() for m in ms)
        # The words between entities are untouched.
        assert [w for w, t in zip(copy.tokens, copy.tags) if t == "O"] == \
            [w for w, t in zip(original.tokens, original.tags) if t == "O"]
        changed += copy != original
    assert changed > 0
    assert out[5] == DATA[2]  # no entity: the copy is the sentence


def test_p_zero_copies_unchanged_and_seed_is_deterministic() -> None:
    assert mention_replacement(DATA, 2, p=0.0) == DATA * 3
    assert mention_replacement(DATA, 3, seed=1) == mention_replacement(DATA, 3, seed=1)
    assert mention_replacement(DATA, 0) == DATA


@pytest.mark.parametrize("copies, p", [(-1, 0.5), (1, 1.5)])
def test_bad_arguments(copies: int, p: float) -> None:
    with pytest.raises(ValueError):
        mention_replacement(DATA, copies, p)
