"""Domain vectors, distance tables, ranking and table files."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from xner.data.corpus import Corpus, Domain, Sentence
from xner.errors import ConfigError
from xner.selection.similarity import (
    Table,
    cosine_table,
    distance_tables,
    euclidean_table,
    format_table,
    most_dissimilar,
    most_similar,
    overlap_table,
    rank_by_similarity,
    sample_texts,
    tfidf_vectors,
    write_tables,
)


def _domain(name: str, texts: list[str], test: str = "secret words only") -> Domain:
    sents = [Sentence(tuple(t.split()), ("O",) * len(t.split()), name, "train.txt", i) for i, t in enumerate(texts)]
    return Domain(name, sents[:-1], sents[-1:], [Sentence(tuple(test.split()), ("O",) * 3, name, "test.txt", 1)])


def _corpus() -> Corpus:
    return Corpus({
        "ai": _domain("ai", ["neural network learning", "deep learning model", "Neural model"]),
        "science": _domain("science", ["neural cells learning", "model of cells", "deep sea"]),
        "music": _domain("music", ["guitar band album", "rock band song", "album song"]),
    })


def test_tfidf_vectors_are_unit_rows() -> None:
    v = tfidf_vectors([["a", "b"], ["A", "c"], ["d"]])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0)
    assert v.shape == (3, 4)  # lower-cased: a, b, c, d


def test_distance_tables_symmetric_zero_diagonal_and_ranking() -> None:
    tables = distance_tables(_corpus(), method="tfidf")
    assert set(tables) == {"euclidean", "cosine", "overlap"}
    for name, table in tables.items():
        assert table.names == ["ai", "music", "science"]
        assert np.allclose(table.values, table.values.T)
        assert np.allclose(np.diag(table.values), 1.0 if name == "overlap" else 0.0)
    for name in ("euclidean", "cosine", "overlap"):
        assert rank_by_similarity(tables[name], "ai") == ["science", "music"]
    assert most_similar(tables["overlap"], "ai") == "science"
    assert most_dissimilar(tables["euclidean"], "ai") == "music"
    assert tables["euclidean"].get("ai", "music") <= math.sqrt(2) + 1e-9


def test_similarity_never_reads_test_text() -> None:
    corpus = _corpus()
    with pytest.raises(ConfigError, match="never test"):
        distance_tables(corpus, method="tfidf", splits=("train", "test"))
    tables = distance_tables(corpus, method="tfidf")
    # The shared test sentence ("secret words only") would raise overlap if it were read.
    vocab_ai = {"neural", "network", "learning", "deep", "model"}
    vocab_music = {"guitar", "band", "album", "rock", "song"}
    assert tables["overlap"].get("ai", "music") == len(vocab_ai & vocab_music) / len(vocab_ai | vocab_music)


def test_table_helpers_hand_computed() -> None:
    v = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    assert euclidean_table(v)[0, 1] == pytest.approx(5.0)
    assert cosine_table(v)[1, 2] == pytest.approx(1 - 4 / 5)
    assert overlap_table([{"a", "b"}, {"b", "c"}, set()])[0, 1] == pytest.approx(1 / 3)
    table = Table("euclidean", ["x", "y", "z"], np.array([[0, 2, 1], [2, 0, 1], [1, 1, 0.0]]))
    assert rank_by_similarity(table, "z") == ["x", "y"]  # tie broken by name
    assert rank_by_similarity(table, "x", exclude=["z"]) == ["y"]
    with pytest.raises(ConfigError):
        rank_by_similarity(table, "nope")
    assert "euclidean" in format_table(table)


def test_write_tables_csv_and_png(tmp_path: Path) -> None:
    tables = distance_tables(_corpus(), method="tfidf")
    paths = write_tables(tables, tmp_path, prefix="tfidf")
    assert sorted(p.name for p in paths) == sorted(
        f"tfidf_{m}.{e}" for m in ("euclidean", "cosine", "overlap") for e in ("csv", "png"))
    csv = (tmp_path / "tfidf_euclidean.csv").read_text().splitlines()
    assert csv[0] == "domain,ai,music,science" and csv[1].startswith("ai,0.0000,")
    assert (tmp_path / "tfidf_cosine.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_method_and_sampling() -> None:
    with pytest.raises(ConfigError, match="tfidf, minilm"):
        distance_tables(_corpus(), method="bert")
    sents = [Sentence((f"w{i}",), ("O",)) for i in range(50)]
    a, b = sample_texts(sents, 10, 0), sample_texts(sents, 10, 0)
    assert a == b and len(a) == 10 and len(set(a)) == 10
    assert sample_texts(sents[:5], 10, 0) == [f"w{i}" for i in range(5)]


def test_minilm_loading_is_offline_only_while_it_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    from xner.selection import similarity

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    with similarity._offline():
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    # a later hub encoder's download in the same process must not be refused
    assert "HF_HUB_OFFLINE" not in os.environ and os.environ["TRANSFORMERS_OFFLINE"] == "0"
