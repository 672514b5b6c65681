"""xner.data.tags: spelling, detection, conversion to IOB2, repair, entity spans of every scheme."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xner.data.tags import (
    BIOES,
    IOB1,
    IOB2,
    SchemeViolation,
    check_scheme_name,
    detect_scheme,
    entity_spans,
    first_violation,
    get_scheme,
    iob2_tags,
    is_valid_iob2,
    repair_iob2,
    tag_problem,
    to_iob2,
)
from xner.errors import DataError


@pytest.mark.parametrize("tag", ["O", "B-PER", "I-loc", "E-x", "S-musical-artist", "B-a_b"])
def test_good_tags(tag: str) -> None:
    assert tag_problem(tag) is None


@pytest.mark.parametrize("tag", ["X-foo", "b-foo", "o", "B-", "I-", "B_PER", "BPER", "B-a b", ""])
def test_bad_tags(tag: str) -> None:
    assert tag_problem(tag)


def test_scheme_names() -> None:
    assert check_scheme_name("IOB2") == "iob2"
    with pytest.raises(DataError, match="unknown tag scheme 'bio'"):
        check_scheme_name("bio")


@pytest.mark.parametrize(
    ("sentences", "scheme"),
    [
        ([["B-A", "I-A", "O"]], "iob2"),
        ([["O", "O"]], "iob2"),
        ([["I-A", "I-A", "O", "I-B"]], "iob1"),
        ([["I-A", "B-A", "O"], ["I-B"]], "iob1"),  # B- only between adjacent same-type entities
        ([["B-A", "O"], ["O", "I-A"]], "iob2"),  # both kinds of start: IOB2 with a mistake
        ([["I-A", "O"], ["B-A"]], "iob2"),
        ([["B-A", "E-A"]], "bioes"),
        ([["I-A"], ["S-A"]], "bioes"),
    ],
)
def test_detect_scheme(sentences: list[list[str]], scheme: str) -> None:
    assert detect_scheme(sentences) == scheme


def test_iob1_to_iob2() -> None:
    tags = ["I-PER", "I-PER", "O", "I-PER", "B-PER", "I-LOC", "I-PER"]
    assert to_iob2(tags, "iob1") == (["B-PER", "I-PER", "O", "B-PER", "B-PER", "B-LOC", "B-PER"], 0)


def test_bioes_to_iob2() -> None:
    tags = ["S-A", "B-B", "I-B", "E-B", "O", "B-A", "E-A", "S-A"]
    assert to_iob2(tags, "bioes")[0] == ["B-A", "B-B", "I-B", "I-B", "O", "B-A", "I-A", "B-A"]


def test_iob2_violation_names_index_and_fix() -> None:
    with pytest.raises(SchemeViolation) as info:
        to_iob2(["B-A", "O", "I-A"], "iob2")
    assert info.value.index == 2
    assert "I-A follows O" in info.value.message and "--repair" in info.value.message


def test_iob2_type_change_is_violation_and_repairable() -> None:
    with pytest.raises(SchemeViolation, match="I-B follows B-A"):
        to_iob2(["B-A", "I-B"], "iob2")
    assert to_iob2(["B-A", "I-B", "I-B", "O", "I-A"], "iob2", repair=True) == (
        ["B-A", "B-B", "I-B", "O", "B-A"], 2,
    )


def test_bioes_tags_rejected_outside_bioes() -> None:
    for scheme in ("iob1", "iob2"):
        with pytest.raises(SchemeViolation, match="BIOES tag"):
            to_iob2(["O", "S-A"], scheme)


def test_repair_and_validity() -> None:
    assert repair_iob2(["I-A", "I-A", "I-B"]) == ["B-A", "I-A", "B-B"]
    assert is_valid_iob2(["B-A", "I-A", "O", "B-B"])
    assert not is_valid_iob2(["O", "I-A"])
    assert not is_valid_iob2(["S-A"])
    assert not is_valid_iob2(["b-a"])


def test_entity_spans() -> None:
    tags = ["B-A", "I-A", "B-A", "O", "B-B", "I-B", "I-B"]
    assert entity_spans(tags) == [("A", 0, 2), ("A", 2, 3), ("B", 4, 7)]
    assert entity_spans(["O"]) == []
    assert entity_spans([]) == []


# Property tests: encode random IOB2 sequences as IOB1 and BIOES; reading them back is exact.

_TYPES = st.sampled_from(["A", "B"])


@st.composite
def iob2_sequences(draw: st.DrawFn) -> list[str]:
    tags: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        choice = draw(st.sampled_from(["O", "B", "I"]))
        if choice == "O":
            tags.append("O")
        elif choice == "I" and tags and tags[-1] != "O":
            tags.append("I-" + tags[-1][2:])
        else:
            tags.append("B-" + draw(_TYPES))
    return tags


def _as_iob1(tags: list[str]) -> list[str]:
    out = []
    for index, tag in enumerate(tags):
        prev = tags[index - 1] if index else "O"
        same_type_before = prev != "O" and prev[2:] == tag[2:]
        if tag == "O" or (tag[0] == "B" and same_type_before):
            out.append(tag)
        else:
            out.append("I-" + tag[2:])
    return out


def _as_bioes(tags: list[str]) -> list[str]:
    out = []
    for index, tag in enumerate(tags):
        nxt = tags[index + 1] if index + 1 < len(tags) else "O"
        ends = nxt[0] != "I" or nxt[2:] != tag[2:]
        if tag == "O":
            out.append(tag)
        elif tag[0] == "B":
            out.append(("S-" if ends else "B-") + tag[2:])
        else:
            out.append(("E-" if ends else "I-") + tag[2:])
    return out


@given(iob2_sequences())
def test_iob1_round_trip(tags: list[str]) -> None:
    assert to_iob2(_as_iob1(tags), "iob1") == (tags, 0)


@given(iob2_sequences())
def test_bioes_round_trip(tags: list[str]) -> None:
    assert to_iob2(_as_bioes(tags), "bioes") == (tags, 0)
    assert to_iob2(tags, "iob2") == (tags, 0)
    assert is_valid_iob2(tags)


@given(iob2_sequences())
def test_detection_of_encoded_sequences(tags: list[str]) -> None:
    bioes = _as_bioes(tags)
    assert detect_scheme([bioes]) == ("bioes" if any(t != "O" for t in tags) else "iob2")
    # An IOB2 sequence with an entity always has a B- start, so it is never taken for IOB1.
    assert detect_scheme([tags]) == "iob2"


@given(st.lists(st.sampled_from(["O", "B-A", "I-A", "I-B"]), max_size=12))
def test_repair_always_gives_valid_iob2(tags: list[str]) -> None:
    fixed = repair_iob2(tags)
    assert is_valid_iob2(fixed)
    assert [t[2:] for t in fixed] == [t[2:] for t in tags]


# ----------------------------------------------------------------------------- tags.py: schemes as data

@pytest.mark.parametrize(("scheme", "tags", "spans"), [
    (IOB2, ["B-A", "I-A", "B-A", "O", "I-B", "I-C"], [("A", 0, 2), ("A", 2, 3), ("B", 4, 5), ("C", 5, 6)]),
    (IOB1, ["I-A", "I-A", "B-A", "O", "I-B", "B-B"], [("A", 0, 2), ("A", 2, 3), ("B", 4, 5), ("B", 5, 6)]),
    (BIOES, ["S-A", "B-B", "I-B", "E-B", "E-B", "O", "B-C"], [("A", 0, 1), ("B", 1, 4), ("B", 4, 5), ("C", 6, 7)]),
    (BIOES, ["S-A", "I-A", "B-A", "E-A"], [("A", 0, 1), ("A", 1, 2), ("A", 2, 4)]),
])
def test_each_scheme_gives_its_spans(scheme, tags: list[str], spans: list[tuple[str, int, int]]) -> None:
    assert entity_spans(tags, scheme) == spans
    assert entity_spans(tags, scheme.name) == spans  # by name too


@pytest.mark.parametrize("scheme", ["iob1", "bioes"])
def test_conversion_keeps_the_spans(scheme: str) -> None:
    tags = {"iob1": ["I-A", "B-A", "O", "I-B", "I-B"], "bioes": ["S-A", "B-B", "I-B", "E-B", "O", "S-B"]}[scheme]
    converted, repaired = to_iob2(tags, scheme)
    assert repaired == 0
    assert entity_spans(converted) == entity_spans(tags, scheme)
    assert iob2_tags(entity_spans(converted), len(tags)) == converted


def test_bioes_inside_after_a_closed_entity_is_a_violation() -> None:
    # E- and S- close their entity (as conlleval reads them), so an I- after them starts one.
    violation = first_violation(["S-A", "I-A"], BIOES)
    assert violation is not None and violation.index == 1 and violation.repairable
    assert to_iob2(["S-A", "I-A"], "bioes", repair=True) == (["B-A", "B-A"], 1)


def test_scheme_validation_errors() -> None:
    assert tag_problem("S-A", IOB2) == "tag 'S-A' is not an IOB2 tag (O, B-TYPE or I-TYPE)"
    assert tag_problem("S-A", BIOES) is None
    assert tag_problem("B_A", BIOES).startswith("malformed tag 'B_A'")
    assert first_violation(["B-A", "E-A"], "iob2").repairable is False
    assert first_violation(["I-A"], IOB1) is None  # IOB1 starts entities with I-
    with pytest.raises(DataError, match="unknown tag scheme 'bilou'"):
        get_scheme("bilou")


def test_repair_keeps_a_repaired_entity_whole() -> None:
    assert repair_iob2(["O", "I-A", "I-A", "I-B", "B-B", "I-B"]) == ["O", "B-A", "I-A", "B-B", "B-B", "I-B"]
    assert repair_iob2(["B-A", "I-A"]) == ["B-A", "I-A"]
