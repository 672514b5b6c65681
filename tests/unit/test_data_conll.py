"""Reading and writing CoNLL files, domain folders and corpora (small fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner.data.conll import (
    discover_domains,
    load_corpus,
    load_domain,
    read_conll,
    read_conll_info,
    read_prediction_file,
    write_conll,
)
from xner.data.corpus import Sentence
from xner.errors import DataError

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "conll"


def test_iob2_file_keeps_domain_file_and_first_line() -> None:
    path = GOOD / "iob2.txt"
    sentences = read_conll(path, domain="news")
    assert [s.tokens for s in sentences] == [
        ("John", "Smith", "lives", "in", "New", "York", "."),
        ("ACME", "hired", "Mary"),
    ]
    assert sentences[0].tags == (
        "B-person", "I-person", "O", "O", "B-location", "I-location", "O"
    )
    # -DOCSTART- on line 1, blank line 2; three blank lines are one sentence break.
    assert [s.line for s in sentences] == [3, 13]
    assert {s.file for s in sentences} == {str(path)}
    assert {s.domain for s in sentences} == {"news"}


def test_file_path_is_kept_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOOD)
    assert read_conll("iob2.txt")[0].file == "iob2.txt"


def test_iob1_detected_and_converted() -> None:
    result = read_conll_info(GOOD / "iob1.txt")
    assert result.scheme == "iob1"
    assert [s.tags for s in result.sentences] == [
        ("B-PER", "I-PER", "O", "B-PER", "I-PER", "B-PER", "O", "B-LOC"),
        ("B-PER", "O", "B-LOC", "B-LOC"),
    ]


def test_iob1_file_read_as_iob2_is_an_error_or_repaired() -> None:
    with pytest.raises(DataError, match=r"iob1.txt:1: I-PER follows O"):
        read_conll(GOOD / "iob1.txt", scheme="iob2")
    result = read_conll_info(GOOD / "iob1.txt", scheme="iob2", repair=True)
    # Repairing every I- start gives the same tags as reading the file as IOB1.
    assert result.repaired == 5
    assert [s.tags for s in result.sentences] == [
        s.tags for s in read_conll(GOOD / "iob1.txt")
    ]


def test_bioes_detected_and_converted() -> None:
    result = read_conll_info(GOOD / "bioes.txt")
    assert result.scheme == "bioes"
    assert [s.tags for s in result.sentences] == [
        ("B-PER", "I-PER", "O", "B-LOC"),
        ("O", "B-ORG", "I-ORG", "I-ORG"),
    ]


def test_space_separated_with_middle_column() -> None:
    sentences = read_conll(GOOD / "spaces.txt")
    assert sentences[0].tokens == ("EU", "rejects", "German", "call")
    assert sentences[0].tags == ("B-ORG", "O", "B-MISC", "O")
    assert sentences[1].line == 6
    # The middle column can be chosen as the "tag" only if it is a tag: POS tags are not.
    with pytest.raises(DataError, match=r"spaces.txt:1: malformed tag 'NNP'"):
        read_conll(GOOD / "spaces.txt", tag_column=1)


def test_crlf_and_bom() -> None:
    sentences = read_conll(GOOD / "crlf_bom.txt")
    assert [s.tokens for s in sentences] == [("Zürich", "is", "nice"), ("Bob",)]
    assert [s.tags for s in sentences] == [("B-LOC", "O", "O"), ("B-PER",)]
    assert [s.line for s in sentences] == [1, 5]


def test_tab_file_allows_spaces_inside_tokens() -> None:
    sentences = read_conll(GOOD / "tab_spaces.txt")
    assert sentences[0].tokens == ("New York", "is", "big")
    assert sentences[0].tags == ("B-LOC", "O", "O")


def test_prediction_file_keeps_invalid_prediction_starts() -> None:
    gold, pred = read_prediction_file(GOOD / "predictions.txt")
    assert [s.tags for s in gold] == [("B-PER", "I-PER", "O"), ("B-LOC",)]
    assert [s.tokens for s in gold] == [("John", "Smith", "runs"), ("Paris",)]
    assert pred == [["B-PER", "O", "I-PER"], ["B-LOC"]]


def test_prediction_file_bioes_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("a\tB-X\tS-X\nb\tE-X\tO\n", encoding="utf-8")
    gold, pred = read_prediction_file(path)
    assert gold[0].tags == ("B-X", "I-X")
    assert pred == [["B-X", "O"]]


def _sentences() -> list[Sentence]:
    return [
        Sentence(("New York", "is", "big"), ("B-LOC", "I-LOC", "O"), "d", "x.txt", 1),
        Sentence(("Über", "ç"), ("O", "B-MISC"), "d", "x.txt", 5),
    ]


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out" / "gold.txt"
    write_conll(path, _sentences())
    assert path.read_text(encoding="utf-8") == (
        "New York\tB-LOC\nis\tI-LOC\nbig\tO\n\nÜber\tO\nç\tB-MISC\n\n"
    )
    back = read_conll(path, domain="d")
    assert [(s.tokens, s.tags) for s in back] == [(s.tokens, s.tags) for s in _sentences()]
    assert [p.name for p in path.parent.iterdir()] == ["gold.txt"]  # no temp file left


def test_write_with_predictions_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "pred.txt"
    predictions = [["B-LOC", "O", "I-LOC"], ["O", "O"]]
    write_conll(path, _sentences(), predictions)
    gold, pred = read_prediction_file(path)
    assert [s.tags for s in gold] == [s.tags for s in _sentences()]
    assert pred == predictions


def test_write_rejects_mismatched_predictions(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_conll(tmp_path / "a.txt", _sentences(), [["O", "O", "O"]])
    with pytest.raises(ValueError):
        write_conll(tmp_path / "a.txt", _sentences(), [["O"], ["O", "O"]])


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "gold.txt"
    path.write_text("old\tO\n", encoding="utf-8")
    bad = [_sentences()[0], Sentence(("a\tb",), ("O",), "d", "src.txt", 7)]
    with pytest.raises(DataError, match=r"src.txt:7: token 'a\\tb' cannot be written"):
        write_conll(path, bad)
    assert path.read_text(encoding="utf-8") == "old\tO\n"
    assert [p.name for p in tmp_path.iterdir()] == ["gold.txt"]


def test_load_domain_and_corpus() -> None:
    corpus = load_corpus(GOOD / "root")
    assert corpus.names() == ["alpha", "beta"]  # "notes" has no split files: not a domain
    alpha = corpus["alpha"]
    assert [len(alpha.split(s)) for s in ("train", "dev", "test")] == [2, 1, 2]
    assert alpha.train[1].line == 6
    assert alpha.train[0].domain == "alpha"
    assert alpha.train[0].file == str(GOOD / "root" / "alpha" / "train.txt")
    beta = load_domain(GOOD / "root" / "beta")  # BIOES, detected per file
    assert beta.name == "beta"
    assert beta.train[0].tags == ("B-org", "O", "B-org", "I-org")
    assert beta.entity_types() == {"org", "person"}


def test_load_corpus_subset_and_discovery(tmp_path: Path) -> None:
    assert list(load_corpus(GOOD / "root", ["beta"]).domains) == ["beta"]
    assert discover_domains(GOOD / "root") == ["alpha", "beta"]
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "train.txt").write_text("a\tO\n", encoding="utf-8")
    assert discover_domains(tmp_path) == ["partial"]
    assert discover_domains(tmp_path, complete_only=True) == []
    assert discover_domains(tmp_path / "missing") == []


# ----------------------------------------------------------------------------- column specs

def test_column_spec_picks_the_named_columns(tmp_path: Path) -> None:
    from xner.data.columns import ColumnSpec

    path = tmp_path / "four.txt"
    path.write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\n", encoding="utf-8")
    by_default = read_conll(path)
    by_index = read_conll(path, columns={0: "text", 3: "ner"})
    assert by_index == by_default
    assert by_index[1].tags == ("B-PER",)
    chunks = read_conll(path, columns=ColumnSpec({0: "text", 2: "ner"}))
    assert chunks[0].tags == ("B-NP", "B-VP")
    with pytest.raises(DataError, match="names no ner column"):
        read_conll(path, columns={0: "text", 3: "tag"})


def test_column_spec_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("EU NNP B-ORG\nrejects VBZ O\n\nPeter I-PER\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_conll(path, columns={0: "text", 2: "ner"})
    assert str(caught.value).startswith(f"error: {path}:4: the line has 2 columns but line 1 has 3")
    with pytest.raises(DataError, match=f"{path}:1: no tag column 5"):
        read_conll(path, columns={0: "text", 5: "ner"})


def test_read_columns_keeps_rows_and_comments(tmp_path: Path) -> None:
    from xner.data.columns import ColumnSpec, read_columns

    path = tmp_path / "review.conll"
    path.write_text("# header\n\n# id = a\nNew York\tB-LOC\t?\n#\tO\n\n", encoding="utf-8")
    spec = ColumnSpec({0: "text"}, min_width=1, same_width=False, tabs_only=True, comments=True,
                      keep_rows=True)
    header, sentence = read_columns(path, spec)
    assert len(header) == 0 and header.comments == [(1, "# header")]
    assert sentence.columns["text"] == ["New York", "#"]  # a '#' line with a tab is a token
    assert sentence.comments == [(3, "# id = a")]
    assert [(r.line, r.fields) for r in sentence.rows] == [(4, ["New York", "B-LOC", "?"]), (5, ["#", "O"])]
