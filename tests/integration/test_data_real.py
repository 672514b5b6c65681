"""The data layer on the real CrossNER copy in ../shared/data/crossner (skipped if absent)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from xner.data.conll import load_corpus, read_conll, read_conll_info, write_conll
from xner.data.corpus import Corpus
from xner.data.stats import corpus_stats
from xner.data.tags import is_valid_iob2

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "crossner"
DOMAINS = ["ai", "conll2003", "literature", "music", "politics", "science"]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    if not DATA.is_dir():
        pytest.skip(f"real CrossNER data not found at {DATA}")
    return load_corpus(DATA)


def test_every_domain_loads(corpus: Corpus) -> None:
    assert corpus.names() == DOMAINS
    for name in DOMAINS:
        for split, sentences in corpus[name].splits():
            assert sentences, f"{name}/{split} is empty"
            assert all(s.domain == name for s in sentences)


@pytest.mark.parametrize(
    ("domain", "counts"),
    [("conll2003", (14041, 3250, 3453)), ("ai", (100, 350, 431))],
)
def test_sentence_counts(corpus: Corpus, domain: str, counts: tuple[int, int, int]) -> None:
    stats = corpus_stats(Corpus({domain: corpus[domain]}))[domain]
    assert (stats["train"]["sentences"], stats["dev"]["sentences"],
            stats["test"]["sentences"]) == counts


def test_conll2003_generic_types(corpus: Corpus) -> None:
    assert corpus["conll2003"].entity_types() == {"person", "organisation", "location", "misc"}


def test_every_tag_is_valid_iob2(corpus: Corpus) -> None:
    for name in DOMAINS:
        for split, sentences in corpus[name].splits():
            bad = [s for s in sentences if not is_valid_iob2(s.tags)]
            assert not bad, f"{name}/{split}: {bad[0].file}:{bad[0].line}"


def test_files_are_read_as_iob2_without_repairs() -> None:
    if not DATA.is_dir():
        pytest.skip(f"real CrossNER data not found at {DATA}")
    for name in DOMAINS:
        result = read_conll_info(DATA / name / "dev.txt")
        assert (result.scheme, result.repaired) == ("iob2", 0)


def test_write_read_round_trip(corpus: Corpus, tmp_path: Path) -> None:
    for name in DOMAINS:
        for split, sentences in corpus[name].splits():
            path = tmp_path / name / f"{split}.txt"
            write_conll(path, sentences)
            back = read_conll(path, domain=name)
            assert [(s.tokens, s.tags) for s in back] == [(s.tokens, s.tags) for s in sentences]
    original = (DATA / "ai" / "train.txt").read_bytes()
    assert (tmp_path / "ai" / "train.txt").read_bytes() == original


def test_conll2003_train_reads_fast() -> None:
    if not DATA.is_dir():
        pytest.skip(f"real CrossNER data not found at {DATA}")
    start = time.perf_counter()
    sentences = read_conll(DATA / "conll2003" / "train.txt")
    elapsed = time.perf_counter() - start
    assert len(sentences) == 14041
    # The target is well under 2 s; the bound is loose because the test machine is shared.
    assert elapsed < 6.0, f"reading conll2003 train took {elapsed:.2f} s"
