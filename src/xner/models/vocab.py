"""Word, casing and character vocabularies for the BiLSTM-CRF.

Words are looked up lower-cased so that "Paris", "PARIS" and "paris" share one embedding; the
case itself is kept as a small separate feature, and the character encoder sees the original.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xner.errors import ModelError

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

CASINGS: tuple[str, ...] = (
    "pad", "lower", "upper_initial", "all_caps", "mixed", "numeric", "has_digit", "punct", "other",
)


_CASE = {name: i for i, name in enumerate(CASINGS)}


def _is_symbol(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def casing(word: str) -> int:
    """Index into CASINGS of the word's shape (called once per distinct token: keep it cheap)."""
    if not word:
        return _CASE["other"]
    if word.isdigit() or _is_number(word):
        return _CASE["numeric"]
    if any(c.isdigit() for c in word):
        return _CASE["has_digit"]
    if word.islower():
        return _CASE["lower"]
    if word.isupper():
        return _CASE["all_caps"]
    if all(map(_is_symbol, word)):
        return _CASE["punct"]
    if word[0].isupper() and (len(word) == 1 or word[1:].islower() or not any(c.isupper() for c in word[1:])):
        return _CASE["upper_initial"]
    if any(c.isupper() for c in word):
        return _CASE["mixed"]
    return _CASE["other"]


def _is_number(word: str) -> bool:
    stripped = word.replace(",", "").replace(".", "").replace("-", "").replace("/", "")
    return bool(stripped) and stripped.isdigit()


@dataclass
class Vocab:
    """An append-only string -> id table whose first two entries are PAD and UNK."""

    items: list[str] = field(default_factory=lambda: [PAD, UNK])

    def __post_init__(self) -> None:
        if self.items[:2] != [PAD, UNK]:
            raise ValueError("a vocabulary starts with <pad>, <unk>")
        self._index = {s: i for i, s in enumerate(self.items)}
        if len(self._index) != len(self.items):
            raise ValueError("duplicate entries in vocabulary")

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: object) -> bool:
        return item in self._index

    def get(self, item: str) -> int:
        return self._index.get(item, UNK_ID)

    def grow(self, items: Iterable[str]) -> list[str]:
        """Append unseen items in first-seen order; existing ids never move. Returns the new ones."""
        added = []
        for item in items:
            if item not in self._index:
                self._index[item] = len(self.items)
                self.items.append(item)
                added.append(item)
        return added


@dataclass
class Vocabularies:
    """Lower-cased words and original-case characters."""

    words: Vocab = field(default_factory=Vocab)
    chars: Vocab = field(default_factory=Vocab)

    @classmethod
    def build(cls, token_lists: Iterable[Iterable[str]]) -> Vocabularies:
        vocab = cls()
        vocab.grow(token_lists)
        return vocab

    def grow(self, token_lists: Iterable[Iterable[str]]) -> tuple[int, int]:
        """Add the words and characters of ``token_lists``. Returns (new words, new chars)."""
        words: dict[str, None] = {}
        chars: dict[str, None] = {}
        for tokens in token_lists:
            for token in tokens:
                words.setdefault(token.lower(), None)
                for char in token:
                    chars.setdefault(char, None)
        return len(self.words.grow(words)), len(self.chars.grow(chars))

    def word_id(self, token: str) -> int:
        return self.words.get(token.lower())

    def char_ids(self, token: str, max_len: int) -> list[int]:
        return [self.chars.get(c) for c in token[:max_len]]

    def to_json(self) -> dict[str, Any]:
        return {"words": list(self.words.items), "chars": list(self.chars.items)}

    @classmethod
    def from_json(cls, data: Any) -> Vocabularies:
        try:
            return cls(Vocab(list(data["words"])), Vocab(list(data["chars"])))
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(f"bad vocabulary in model metadata: {err}") from err
