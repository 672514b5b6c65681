"""Property tests: growing a LabelSpace never moves an existing id."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from xner.labels.space import OUTSIDE, LabelSpace

SETTINGS = settings(max_examples=80, deadline=None)

type_names = st.text(st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=6)
type_sets = st.lists(type_names, max_size=6)


@SETTINGS
@given(type_sets, st.lists(type_sets, min_size=1, max_size=4))
def test_extend_keeps_every_existing_id(initial: list[str], growth: list[list[str]]) -> None:
    space = LabelSpace.from_types(initial)
    for more in growth:
        before = list(space.tags)
        ids = {tag: space.id(tag) for tag in before}
        added = space.extend(LabelSpace.from_types(more))
        assert space.tags[: len(before)] == before  # old tags keep their place ...
        assert {tag: space.id(tag) for tag in before} == ids  # ... and their id
        assert space.tags[len(before):] == added  # new tags are appended, nothing else
        assert {f"{p}-{t}" for t in more for p in "BI"} <= set(space.tags)
        assert len(set(space.tags)) == len(space.tags) and space.tags[0] == OUTSIDE
        assert space.decode(space.encode(space.tags)) == space.tags


@SETTINGS
@given(type_sets, type_sets)
def test_extend_is_idempotent_and_accepts_plain_tags(initial: list[str], more: list[str]) -> None:
    space = LabelSpace.from_types(initial)
    other = LabelSpace.from_types(more)
    plain = space.copy()
    space.extend(other)
    plain.extend(other.tags)  # an iterable of tags means the same as a LabelSpace
    assert plain.tags == space.tags
    snapshot = list(space.tags)
    assert space.extend(other) == [] and space.tags == snapshot
    assert LabelSpace.from_json(space.to_json()).tags == snapshot


@SETTINGS
@given(type_sets, type_sets)
def test_extend_does_not_touch_the_other_space(initial: list[str], more: list[str]) -> None:
    space, other = LabelSpace.from_types(initial), LabelSpace.from_types(more)
    other_before = list(other.tags)
    copy = space.copy()
    space.extend(other)
    assert other.tags == other_before
    assert set(copy.types) | set(other.types) == set(space.types)
