"""An ordered BIO tag set with stable ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

OUTSIDE = "O"


def entity_type(tag: str) -> str | None:
    """``B-person`` -> ``person``; ``O`` -> None."""
    return None if tag == OUTSIDE else tag[2:]


@dataclass
class LabelSpace:
    """Ordered tags; id 0 is always ``O``. ``extend`` only appends, so old ids never move."""

    tags: list[str] = field(default_factory=lambda: [OUTSIDE])

    def __post_init__(self) -> None:
        if not self.tags or self.tags[0] != OUTSIDE:
            raise ValueError("a label space starts with 'O'")
        if len(set(self.tags)) != len(self.tags):
            raise ValueError("duplicate tags in label space")
        self._index = {t: i for i, t in enumerate(self.tags)}

    @classmethod
    def from_types(cls, types: Iterable[str]) -> LabelSpace:
        """O, then B-/I- for each type in sorted order."""
        space = cls()
        space.add_types(types)
        return space

    @classmethod
    def from_sentences(cls, sentences: Iterable[object]) -> LabelSpace:
        types = {t[2:] for s in sentences for t in s.tags if t != OUTSIDE}  # type: ignore[attr-defined]
        return cls.from_types(types)

    def add_types(self, types: Iterable[str]) -> list[str]:
        """Append B-/I- tags for unseen types (sorted); returns the tags added."""
        added: list[str] = []
        for typ in sorted(set(types)):
            for prefix in ("B-", "I-"):
                tag = prefix + typ
                if tag not in self._index:
                    self._index[tag] = len(self.tags)
                    self.tags.append(tag)
                    added.append(tag)
        return added

    def extend(self, other: LabelSpace | Iterable[str]) -> list[str]:
        """Add every type of ``other`` that is missing; existing ids stay as they are."""
        tags = other.tags if isinstance(other, LabelSpace) else list(other)
        return self.add_types({t[2:] for t in tags if t != OUTSIDE})

    def copy(self) -> LabelSpace:
        return LabelSpace(list(self.tags))

    @property
    def types(self) -> list[str]:
        seen: dict[str, None] = {}
        for tag in self.tags[1:]:
            seen.setdefault(tag[2:], None)
        return list(seen)

    def __len__(self) -> int:
        return len(self.tags)

    def __contains__(self, tag: object) -> bool:
        return tag in self._index

    def id(self, tag: str) -> int:
        return self._index[tag]

    def encode(self, tags: Sequence[str]) -> list[int]:
        return [self._index[t] for t in tags]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tags[i] for i in ids]

    def to_json(self) -> list[str]:
        return list(self.tags)

    @classmethod
    def from_json(cls, data: list[str]) -> LabelSpace:
        return cls(list(data))
