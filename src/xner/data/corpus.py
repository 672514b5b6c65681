"""Sentences, domains and corpora: the data every later stage works on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

SPLITS: tuple[str, ...] = ("train", "dev", "test")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One tagged sentence. Tags are IOB2 internally; ``file``/``line`` point at its first token."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    domain: str = ""
    file: str = ""
    line: int = 0

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")

    def __len__(self) -> int:
        return len(self.tokens)

    def with_tags(self, tags: Iterable[str]) -> Sentence:
        return replace(self, tags=tuple(tags))

    @property
    def key(self) -> tuple[str, str, int]:
        """Stable identity of the sentence (where it came from), used for nesting and dedup."""
        return (self.domain, self.file, self.line)


@dataclass(slots=True)
class Domain:
    """A domain is a folder with train/dev/test splits."""

    name: str
    train: list[Sentence] = field(default_factory=list)
    dev: list[Sentence] = field(default_factory=list)
    test: list[Sentence] = field(default_factory=list)

    def split(self, name: str) -> list[Sentence]:
        if name not in SPLITS:
            raise KeyError(name)
        return getattr(self, name)

    def splits(self) -> Iterator[tuple[str, list[Sentence]]]:
        for name in SPLITS:
            yield name, self.split(name)

    def entity_types(self) -> set[str]:
        return {tag[2:] for _, sents in self.splits() for s in sents for tag in s.tags if tag != "O"}


@dataclass(slots=True)
class Corpus:
    """Named domains, in a stable (sorted) order."""

    domains: dict[str, Domain] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Domain:
        return self.domains[name]

    def __contains__(self, name: object) -> bool:
        return name in self.domains

    def names(self) -> list[str]:
        return sorted(self.domains)
