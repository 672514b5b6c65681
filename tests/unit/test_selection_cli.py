"""``xner select`` commands on a small generated data root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xner.cli import app
from xner.data.conll import read_conll

WORDS = {"conll2003": "Paris London Reuters", "ai": "neural network Turing", "music": "guitar album Beatles",
         "science": "cell protein Curie"}


def _write(path: Path, domain: str, split: str, n: int) -> None:
    words = WORDS[domain].split()
    lines = []
    for i in range(n):
        lines += [f"{words[2]}\tB-person", f"{split}{i}\tO", f"{words[i % 2]}\tO", ""]
    path.write_text("\n".join(lines))


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    for domain, n in [("conll2003", 6), ("ai", 3), ("music", 5), ("science", 4)]:
        (tmp_path / domain).mkdir()
        for split in ("train", "dev", "test"):
            _write(tmp_path / domain / f"{split}.txt", domain, f"{domain}-{split}-", n)
    return tmp_path


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, ["select", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_random_writes_nested_pool_sample(root: Path, tmp_path: Path) -> None:
    out10, out50 = tmp_path / "s10.txt", tmp_path / "s50.txt"
    assert "wrote 2 of 18 pool sentences" in _run("random", "--data", str(root), "--target", "ai", "--percent", "10",
                                                  "--seed", "1", "--out", str(out10))
    _run("random", "--data", str(root), "--target", "ai", "--percent", "50", "--seed", "1", "--out", str(out50))
    small, big = read_conll(out10), read_conll(out50)
    assert len(big) == 9 and [s.tokens for s in big[:2]] == [s.tokens for s in small]
    assert all("-test-" not in s.tokens[1] and not s.tokens[1].startswith("ai-") for s in big)


def test_random_from_most_similar_and_dissimilar(root: Path, tmp_path: Path) -> None:
    from xner.data.conll import load_corpus
    from xner.selection.similarity import distance_tables, rank_by_similarity

    ranking = rank_by_similarity(distance_tables(load_corpus(root, ["ai", "music", "science"]))["euclidean"], "ai")
    for pick, domain in (("similar", ranking[0]), ("dissimilar", ranking[-1])):
        out = tmp_path / f"{pick}.txt"
        text = _run("random", "--data", str(root), "--target", "ai", "--percent", "100", "--pick", pick,
                    "--out", str(out))
        assert f"from {domain}" in text
        assert {s.tokens[0] for s in read_conll(out)} == {WORDS[domain].split()[2]}


def test_random_rejects_bad_percent(root: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["select", "random", "--data", str(root), "--target", "ai", "--percent", "150",
                                      "--out", str(tmp_path / "x.txt")])
    assert result.exit_code != 0 and "between 0 and 100" in str(result.exception)


def test_similarity_prints_and_writes(root: Path, tmp_path: Path) -> None:
    out = _run("similarity", "--data", str(root), "--out", str(tmp_path / "sim"), "--target", "ai")
    assert "euclidean:" in out and "overlap:" in out and "most similar to ai" in out
    assert len(list((tmp_path / "sim").glob("tfidf_*.csv"))) == 3
    assert len(list((tmp_path / "sim").glob("tfidf_*.png"))) == 3


def test_uncertain_and_target_with_tiny_model(root: Path, tmp_path: Path) -> None:
    import torch

    from xner.labels.space import LabelSpace
    from xner.models.bilstm_crf import BiLSTMCRFTagger

    torch.set_num_threads(1)
    source = read_conll(root / "conll2003" / "train.txt", "conll2003")
    tiny = {"word_dim": 8, "casing_dim": 2, "char_dim": 4, "char_filters": 4, "hidden": 8}
    BiLSTMCRFTagger.create(source, LabelSpace.from_sentences(source), tiny, seed=0).save(tmp_path / "model")
    out = tmp_path / "unc.txt"
    text = _run("uncertain", "--model", str(tmp_path / "model"), "--data", str(root), "--target", "ai",
                "--budget", "4", "--out", str(out))
    assert "wrote 4 of 18 pool sentences" in text and len(read_conll(out)) == 4
    table = tmp_path / "target.json"
    text = _run("target", "--pretrained", str(tmp_path / "model"), "--data", str(root), "--epochs", "1",
                "--patience", "1", "--json", str(table), "-q")
    choice = json.loads(table.read_text())
    assert sorted(r["domain"] for r in choice["rows"]) == ["ai", "music", "science"]
    assert choice["target"] in text and "<- target" in text
    worst = min(choice["rows"], key=lambda r: (r["dev_f1"], r["domain"]))
    assert choice["target"] == worst["domain"]
