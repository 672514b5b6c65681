"""The shipped CrossNER map against the real data: full coverage, same entities after mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner.data.corpus import Sentence
from xner.evaluation.metrics import extract_entities
from xner.labels.normalise import GENERIC_TYPES, apply_label_mode, entity_types, load_label_map

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/crossner"
DOMAINS = ("conll2003", "politics", "science", "music", "literature", "ai")

pytestmark = pytest.mark.integration


def _read(path: Path, domain: str) -> list[Sentence]:
    """Minimal reader for the known-good shared files (keeps this test off the data layer)."""
    sents: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            token, tag = line.split("\t")
            tokens.append(token)
            tags.append(tag)
        elif tokens:
            sents.append(Sentence(tuple(tokens), tuple(tags), domain=domain, file=str(path)))
            tokens, tags = [], []
    return sents


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[Sentence]]:
    if not DATA.is_dir():
        pytest.skip(f"CrossNER data not found at {DATA}")
    return {d: [s for split in ("train", "dev", "test") for s in _read(DATA / d / f"{split}.txt", d)] for d in DOMAINS}


def test_shipped_map_covers_every_type_in_all_six_domains(corpus: dict[str, list[Sentence]]) -> None:
    lm = load_label_map()
    pairs = {p for sents in corpus.values() for p in entity_types(sents)}
    assert len({t for _, t in pairs}) >= 30  # sanity: the real data has many raw types
    assert lm.missing(pairs) == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_normalising_keeps_every_entity_and_only_generic_types(
    corpus: dict[str, list[Sentence]], domain: str
) -> None:
    raw = corpus[domain]
    norm = apply_label_mode(raw, "normalised")
    raw_entities = extract_entities([list(s.tags) for s in raw])
    norm_entities = extract_entities([list(s.tags) for s in norm])
    assert {t for t, *_ in norm_entities} <= set(GENERIC_TYPES)
    assert len(norm_entities) == len(raw_entities) > 0
    # Same spans, only the type changes.
    assert [e[1:] for e in norm_entities] == [e[1:] for e in raw_entities]


@pytest.mark.parametrize("domain", DOMAINS[1:])
def test_every_target_only_label_starts_from_a_conll_label(corpus: dict[str, list[Sentence]], domain: str) -> None:
    from xner.labels.origins import label_origins
    from xner.labels.space import LabelSpace

    source = LabelSpace.from_sentences(corpus["conll2003"])
    grown = source.copy()
    added = grown.extend(LabelSpace.from_sentences(corpus[domain]))
    origins = label_origins(source, grown, load_label_map(), domain)
    assert added and sorted(origins) == [grown.id(t) for t in added]  # the shipped map names every type
    label_map = load_label_map()
    for new_id, old_id in origins.items():
        new, old = grown.tags[new_id], source.tags[old_id]
        assert new[:2] == old[:2]
        assert label_map.target(new[2:], domain) == label_map.target(old[2:], domain)
