"""Entity metrics against hand-computed values (arithmetic in the comments)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import f1_score
from seqeval.metrics.sequence_labeling import get_entities

from xner.evaluation.metrics import entity_f1, entity_scores, extract_entities


def approx(x: float) -> object:
    return pytest.approx(x, abs=1e-12)


def test_exact_match() -> None:
    # gold = pred = {PER[0..1], LOC[3]}: tp 2, pred 2, gold 2 -> P = R = F1 = 1.
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    s = entity_scores(gold, gold)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert (s.strict_precision, s.strict_recall, s.strict_f1) == (1.0, 1.0, 1.0)
    assert (s.n_gold, s.n_pred, s.n_correct) == (2, 2, 2)
    assert entity_f1(gold, gold) == 1.0


def test_partial_span_is_a_miss_and_a_false_positive() -> None:
    # gold {PER[0..1], LOC[3]}, pred {PER[0..0], LOC[3]}: the short PER span is wrong.
    # tp 1 (LOC); P = 1/2, R = 1/2, F1 = 2*.5*.5/(.5+.5) = 0.5.
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "O", "O", "B-LOC"]]
    s = entity_scores(gold, pred)
    assert (s.precision, s.recall, s.f1) == (approx(0.5), approx(0.5), approx(0.5))
    # per type: PER tp 0 of pred 1, gold 1 -> 0/0/0, support 1; LOC 1/1/1, support 1.
    assert s.per_type["PER"].f1 == 0.0 and s.per_type["PER"].support == 1
    assert s.per_type["LOC"].f1 == 1.0 and s.per_type["LOC"].support == 1
    assert entity_f1(gold, pred) == approx(0.5)


def test_type_confusion() -> None:
    # gold {PER[0..1], LOC[3]}, pred {ORG[0..1], LOC[3]}: same span, wrong type -> not a match.
    # tp 1; P = 1/2, R = 1/2, F1 = 0.5. ORG: pred 1, tp 0, support 0 -> P 0.
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-ORG", "I-ORG", "O", "B-LOC"]]
    s = entity_scores(gold, pred)
    assert s.f1 == approx(0.5)
    assert s.per_type["ORG"] .precision == 0.0 and s.per_type["ORG"].support == 0
    assert s.per_type["PER"].recall == 0.0 and s.per_type["PER"].support == 1
    assert set(s.per_type) == {"LOC", "ORG", "PER"}


def test_missed_entity() -> None:
    # gold {PER[0], LOC[2]}, pred {PER[0]}: tp 1, pred 1, gold 2.
    # P = 1/1 = 1, R = 1/2, F1 = 2*1*.5/1.5 = 2/3.
    gold = [["B-PER", "O", "B-LOC"]]
    pred = [["B-PER", "O", "O"]]
    s = entity_scores(gold, pred)
    assert (s.precision, s.recall, s.f1) == (approx(1.0), approx(0.5), approx(2 / 3))
    assert s.per_type["LOC"] == s.per_type["LOC"].__class__(0.0, 0.0, 0.0, 1)
    assert entity_f1(gold, pred) == approx(2 / 3)


def test_spurious_entity() -> None:
    # gold {PER[0]}, pred {PER[0], MISC[2]}: tp 1, pred 2, gold 1.
    # P = 1/2, R = 1, F1 = 2*.5*1/1.5 = 2/3.
    gold = [["B-PER", "O", "O"]]
    pred = [["B-PER", "O", "B-MISC"]]
    s = entity_scores(gold, pred)
    assert (s.precision, s.recall, s.f1) == (approx(0.5), approx(1.0), approx(2 / 3))
    assert entity_f1(gold, pred) == approx(2 / 3)


def test_default_and_strict_modes_differ_on_entity_starting_with_i() -> None:
    # pred starts PER with I-. Default (conlleval) mode: I- at the start opens PER[0..1],
    # so pred = {PER[0..1], LOC[3]} = gold -> P = R = F1 = 1.
    # Strict IOB2: only B- opens an entity, so pred = {LOC[3]}: tp 1, pred 1, gold 2 ->
    # P = 1, R = 1/2, F1 = 2/3.
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-LOC"]]
    s = entity_scores(gold, pred)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert (s.strict_precision, s.strict_recall, s.strict_f1) == (approx(1.0), approx(0.5), approx(2 / 3))
    assert entity_f1(gold, pred) == 1.0


def test_type_change_inside_a_chunk_splits_it() -> None:
    # Default mode: B-PER I-LOC is PER[0] then LOC[1] (I- of another type starts a chunk).
    assert extract_entities([["B-PER", "I-LOC", "I-LOC", "O", "I-PER"]]) == [
        ("PER", 0, 0, 0), ("LOC", 0, 1, 2), ("PER", 0, 4, 4)
    ]


def test_micro_average_pools_counts_over_sentences() -> None:
    # sentence 0: exact, tp 2 of 2; sentence 1: gold 1 entity, pred none.
    # pooled: tp 2, pred 2, gold 3 -> P = 1, R = 2/3, F1 = 2*(2/3)/(5/3) = 0.8.
    # (Averaging per-sentence F1 would give (1 + 0)/2 = 0.5 instead.)
    gold = [["B-PER", "O", "B-LOC"], ["B-ORG", "I-ORG"]]
    pred = [["B-PER", "O", "B-LOC"], ["O", "O"]]
    s = entity_scores(gold, pred)
    assert (s.precision, s.recall, s.f1) == (approx(1.0), approx(2 / 3), approx(0.8))
    assert entity_f1(gold, pred) == approx(0.8)


def test_entities_do_not_cross_sentence_boundaries() -> None:
    # gold [[B-PER], [I-PER]]: default mode reads two entities (I- opens one in sentence 1).
    # pred [[B-PER], [B-PER]] -> default tp 2/2/2 -> F1 1.
    # strict: gold has only PER in sentence 0 (I- opens nothing): tp 1, pred 2, gold 1 ->
    # P = 1/2, R = 1, F1 = 2/3.
    gold = [["B-PER"], ["I-PER"]]
    pred = [["B-PER"], ["B-PER"]]
    s = entity_scores(gold, pred)
    assert s.f1 == 1.0
    assert s.strict_f1 == approx(2 / 3)


def test_no_entities_anywhere_scores_zero() -> None:
    s = entity_scores([["O", "O"]], [["O", "O"]])
    assert (s.f1, s.strict_f1, s.per_type) == (0.0, 0.0, {})
    assert entity_f1([["O"]], [["O"]]) == 0.0


def test_to_json_is_plain_data() -> None:
    data = entity_scores([["B-PER"]], [["B-PER"]]).to_json()
    assert data["f1"] == 1.0 and data["per_type"]["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}


@pytest.mark.parametrize("fn", [entity_f1, entity_scores])
def test_guards(fn) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="no sentences"):
        fn([], [])
    with pytest.raises(ValueError, match="2 gold sentences but 1 predicted"):
        fn([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match="sentence 1: 2 gold tags but 1 predicted"):
        fn([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="sentence 1: predicted tag 'E-PER' is not IOB2"):
        fn([["O"], ["O"]], [["O"], ["E-PER"]])


TAG = st.sampled_from(["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-MISC"])
SENTS = st.lists(st.lists(TAG, min_size=0, max_size=8), min_size=1, max_size=6)


@settings(max_examples=120, deadline=None)
@given(data=st.data(), gold=SENTS)
def test_fast_path_agrees_with_seqeval(data: st.DataObject, gold: list[list[str]]) -> None:
    pred = [data.draw(st.lists(TAG, min_size=len(g), max_size=len(g))) for g in gold]
    # Chunks: seqeval's own reader, sentence by sentence.
    for seq in gold:
        assert [(t, s, e) for t, _, s, e in extract_entities([seq])] == get_entities(seq)
    ours = entity_f1(gold, pred)
    assert ours == pytest.approx(f1_score(gold, pred, zero_division=0), abs=1e-12)
    assert entity_scores(gold, pred).f1 == pytest.approx(ours, abs=1e-12)
