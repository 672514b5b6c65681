"""Word/char vocabularies and the casing feature."""

from __future__ import annotations

import json

import pytest

from xner.errors import ModelError
from xner.models.vocab import CASINGS, PAD_ID, UNK_ID, Vocab, Vocabularies, casing


@pytest.mark.parametrize(
    ("word", "shape"),
    [
        ("paris", "lower"), ("Paris", "upper_initial"), ("PARIS", "all_caps"), ("iPhone", "mixed"),
        ("McDonald", "mixed"), ("1996", "numeric"), ("3,500.25", "numeric"), ("1-0", "numeric"),
        ("F16", "has_digit"), ("2nd", "has_digit"), (",", "punct"), ("(", "punct"), ("$", "punct"),
        ("--", "punct"), ("A", "all_caps"), ("é", "lower"), ("", "other"),
    ],
)
def test_casing(word: str, shape: str) -> None:
    assert CASINGS[casing(word)] == shape


def test_casing_never_uses_pad_id() -> None:
    assert all(casing(w) != 0 for w in ["a", "A", "1", ".", "aB", "", "日本"])


def test_words_are_lowercased_chars_are_not() -> None:
    vocab = Vocabularies.build([["Paris", "PARIS", "paris", "Rome"]])
    assert len(vocab.words) == 2 + 2
    assert vocab.word_id("PaRiS") == vocab.word_id("paris") != UNK_ID
    assert vocab.word_id("London") == UNK_ID
    assert "P" in vocab.chars and "p" in vocab.chars
    assert vocab.char_ids("Pxris", max_len=3) == [vocab.chars.get("P"), UNK_ID, vocab.chars.get("r")]


def test_grow_keeps_existing_ids() -> None:
    vocab = Vocabularies.build([["the", "cat"]])
    before = {w: vocab.word_id(w) for w in ["the", "cat"]}
    chars_before = list(vocab.chars.items)
    added = vocab.grow([["The", "dog", "cat"], ["Ω"]])
    assert added == (2, 5)  # words dog, ω; chars T, d, o, g, Ω
    assert {w: vocab.word_id(w) for w in ["the", "cat"]} == before
    assert vocab.chars.items[: len(chars_before)] == chars_before
    assert vocab.word_id("dog") == len(before) + 2 and vocab.word_id("ω") == len(before) + 3
    assert vocab.grow([["dog"]]) == (0, 0)


def test_json_round_trip() -> None:
    vocab = Vocabularies.build([["Hello", "world", "!"], ["x"]])
    again = Vocabularies.from_json(json.loads(json.dumps(vocab.to_json())))
    assert again.words.items == vocab.words.items and again.chars.items == vocab.chars.items
    assert again.word_id("world") == vocab.word_id("world")


@pytest.mark.parametrize("bad", [None, {}, {"words": ["a"], "chars": []}, {"words": 3, "chars": 4}])
def test_bad_json_is_model_error(bad: object) -> None:
    with pytest.raises(ModelError):
        Vocabularies.from_json(bad)


def test_vocab_starts_with_pad_unk() -> None:
    vocab = Vocab()
    assert vocab.get("<pad>") == PAD_ID and vocab.get("anything") == UNK_ID
    with pytest.raises(ValueError):
        Vocab(["x"])
