"""Raw-text splitting: sentences, tokens and exact character offsets."""

from __future__ import annotations

import pytest

from xner.text import TokenSpan, _locate, split_text, tokenize


def _check_offsets(text: str) -> list[list[TokenSpan]]:
    sentences = split_text(text)
    previous_end = 0
    for sentence in sentences:
        for tok in sentence:
            assert text[tok.start:tok.end] == tok.text
            assert tok.start >= previous_end  # in order, never overlapping
            previous_end = tok.end
    return sentences


def test_multiple_sentences_and_punctuation() -> None:
    text = 'Dr. Smith went to Paris. He said: "don\'t go!" Then he left (quickly).'
    sentences = _check_offsets(text)
    assert len(sentences) == 3
    assert [t.text for t in sentences[0]] == ["Dr", ".", "Smith", "went", "to", "Paris", "."]
    assert [t.text for t in sentences[1]][-3:] == ["go", "!", '"']
    assert [t.text for t in sentences[2]] == ["Then", "he", "left", "(", "quickly", ")", "."]
    paris = sentences[0][5]
    assert (paris.start, paris.end) == (18, 23)


def test_unicode_offsets_are_code_points() -> None:
    text = "Müller lives in Zürich 😀 today. Café Ñandú opened in São Paulo."
    sentences = _check_offsets(text)
    assert len(sentences) == 2
    tokens = [t.text for s in sentences for t in s]
    for word in ("Müller", "Zürich", "😀", "Café", "Ñandú", "São", "Paulo"):
        assert word in tokens
    sao = next(t for s in sentences for t in s if t.text == "São")
    assert text[sao.start:sao.end] == "São"


def test_newlines_tabs_and_paragraphs() -> None:
    text = "First line here.\r\n\r\nSecond\tparagraph\u00a0with  spaces.\nThird one"
    sentences = _check_offsets(text)
    assert [[t.text for t in s] for s in sentences] == [
        ["First", "line", "here", "."],
        ["Second", "paragraph", "with", "spaces", "."],
        ["Third", "one"],
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_text_has_no_sentences(text: str) -> None:
    assert split_text(text) == []


def test_tokenize_matches_split_text() -> None:
    text = "One two. Three."
    assert tokenize(text) == [["One", "two", "."], ["Three", "."]]


def test_locate_falls_back_when_value_not_at_offset() -> None:
    # A normalised token ("not" for "n't") is searched after the cursor, else clipped.
    assert _locate("do it", "it", 0, 2) == TokenSpan("it", 3, 5)
    span = _locate("don't", "not", 2, 2)
    assert span.text == "n't" and (span.start, span.end) == (2, 5)


def test_camel_case_names_stay_one_token() -> None:
    text = "Yann LeCun used PyTorch on an iPhone at DeepMind and McDonald's."
    tokens = [t.text for s in _check_offsets(text) for t in s]
    for word in ("LeCun", "PyTorch", "iPhone", "DeepMind", "McDonald"):
        assert word in tokens
    assert "'s" in tokens
    # Contractions and real sentence breaks are still split.
    assert tokenize("I don't know.It rains.") == [["I", "do", "n't", "know", "."], ["It", "rains", "."]]
