"""Property tests: CoNLL write -> read round trips, and IOB1/BIOES <-> IOB2 conversions.

The library converts *to* IOB2 only (``xner.data.tags.to_iob2``); the conversions *from*
IOB2 are written here, from the scheme definitions, so each direction is checked against an
independent implementation.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xner.data.conll import read_conll, read_conll_info, read_prediction_file, write_conll
from xner.data.corpus import Sentence
from xner.data.tags import detect_scheme, entity_spans, is_valid_iob2, to_iob2
from xner.errors import DataError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Tokens: any characters but whitespace (Z*) and control/surrogate code points, which a
# one-token-per-line format cannot hold, and no token starting with "-DOCSTART-" (write_conll
# refuses it: every reader skips such a line as a document marker; see the tests at the end).
# Tokens starting with U+FEFF (a byte-order mark) are drawn, often first in a file.
_CHARS = st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs"))
tokens = st.one_of(st.text(_CHARS, min_size=1, max_size=8),
                   st.text(_CHARS, max_size=3).map(lambda t: "\ufeff" + t)).filter(
    lambda t: not t.startswith("-DOCSTART-"))
types = st.one_of(
    st.sampled_from(["PER", "LOC", "ORG", "MISC", "person", "musical-artist"]),
    st.text(st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=5),
)


@st.composite
def iob2_tags(draw: st.DrawFn, max_segments: int = 6) -> list[str]:
    """A valid IOB2 sequence built from segments: runs of O and entities of 1-3 tokens."""
    tags: list[str] = []
    for _ in range(draw(st.integers(1, max_segments))):
        kind = draw(st.one_of(st.none(), types))
        length = draw(st.integers(1, 3))
        tags += ["O"] * length if kind is None else ["B-" + kind] + ["I-" + kind] * (length - 1)
    return tags


@st.composite
def sentences(draw: st.DrawFn) -> Sentence:
    tags = draw(iob2_tags())
    words = draw(st.lists(tokens, min_size=len(tags), max_size=len(tags)))
    return Sentence(tuple(words), tuple(tags))


def iob2_to_iob1(tags: list[str]) -> list[str]:
    """IOB1: entities start with I-, except B- right after an entity of the same type."""
    out = []
    prev = "O"
    for tag in tags:
        if tag.startswith("B-") and not (prev != "O" and prev[2:] == tag[2:]):
            tag = "I-" + tag[2:]
        out.append(tag)
        prev = tag
    return out


def iob2_to_bioes(tags: list[str]) -> list[str]:
    """BIOES: S- for one-token entities, B- ... I- ... E- for longer ones."""
    out = ["O"] * len(tags)
    for kind, start, end in entity_spans(tags):
        if end - start == 1:
            out[start] = "S-" + kind
        else:
            out[start:end] = ["B-" + kind] + ["I-" + kind] * (end - start - 2) + ["E-" + kind]
    return out


def _write_raw(folder: str, rows: list[list[str]]) -> Path:
    path = Path(folder) / "raw.txt"
    path.write_text("".join("".join(f"{t}\t{g}\n" for t, g in zip(s.tokens, tags)) + "\n"
                            for s, tags in rows), encoding="utf-8-sig")  # a token may start with U+FEFF
    return path


@SETTINGS
@given(st.lists(sentences(), min_size=1, max_size=5))
def test_write_then_read_gives_the_same_sentences(sents: list[Sentence]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.txt"
        write_conll(path, sents)
        info = read_conll_info(path, domain="d")
    assert [(s.tokens, s.tags) for s in info.sentences] == [(s.tokens, s.tags) for s in sents]
    assert info.scheme == "iob2"
    # Each sentence points at the line of its first token (a blank line after every sentence).
    starts = [1]
    for s in sents[:-1]:
        starts.append(starts[-1] + len(s) + 1)
    assert [s.line for s in info.sentences] == starts
    assert {s.domain for s in info.sentences} == {"d"}


@SETTINGS
@given(st.lists(st.tuples(sentences(), st.data()), min_size=1, max_size=4))
def test_write_then_read_predictions(pairs: list[tuple[Sentence, st.DataObject]]) -> None:
    sents = [s for s, _ in pairs]
    # Predictions are kept as written in an IOB2 file, even a model's invalid I- starts.
    pred_tag = st.one_of(st.just("O"), st.builds(lambda p, k: p + k, st.sampled_from(["B-", "I-"]), types))
    preds = [data.draw(st.lists(pred_tag, min_size=len(s), max_size=len(s))) for s, data in pairs]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pred.txt"
        write_conll(path, sents, preds)
        gold, got = read_prediction_file(path)
    assert [(s.tokens, s.tags) for s in gold] == [(s.tokens, s.tags) for s in sents]
    assert got == preds


@SETTINGS
@given(iob2_tags())
def test_iob1_round_trip(tags: list[str]) -> None:
    iob1 = iob2_to_iob1(tags)
    assert to_iob2(iob1, "iob1") == (tags, 0)
    if any(t != "O" for t in tags):
        assert detect_scheme([iob1]) == "iob1"  # exact for a valid file with an entity


@SETTINGS
@given(iob2_tags())
def test_bioes_round_trip(tags: list[str]) -> None:
    bioes = iob2_to_bioes(tags)
    assert to_iob2(bioes, "bioes") == (tags, 0)
    assert len(entity_spans(tags)) == sum(t[0] in "SE" for t in bioes)  # one S- or E- each
    if any(t != "O" for t in tags):
        assert detect_scheme([bioes]) == "bioes"


@SETTINGS
@given(iob2_tags())
def test_iob2_is_a_fixed_point(tags: list[str]) -> None:
    assert is_valid_iob2(tags)
    assert to_iob2(tags, "iob2") == (tags, 0)
    assert detect_scheme([tags]) == "iob2"


@SETTINGS
@given(st.lists(sentences(), min_size=1, max_size=4), st.sampled_from(["iob1", "bioes"]))
def test_files_in_other_schemes_read_back_as_iob2(sents: list[Sentence], scheme: str) -> None:
    convert = iob2_to_iob1 if scheme == "iob1" else iob2_to_bioes
    rows = [(s, convert(list(s.tags))) for s in sents]
    has_entity = any(t != "O" for s in sents for t in s.tags)
    with tempfile.TemporaryDirectory() as folder:
        path = _write_raw(folder, rows)
        explicit = read_conll_info(path, scheme=scheme)
        auto = read_conll_info(path)
    for info in (explicit, auto):
        assert [(s.tokens, s.tags) for s in info.sentences] == [(s.tokens, s.tags) for s in sents]
    assert auto.scheme == (scheme if has_entity else "iob2")
    assert explicit.repaired == 0


@pytest.mark.parametrize("token", ["-DOCSTART-", "-DOCSTART-x"])
def test_write_conll_refuses_a_docstart_token(tmp_path: Path, token: str) -> None:
    """Such a line reads as a document marker, so the sentence would lose a token."""
    sents = [Sentence(("a",), ("O",)), Sentence(("x", token), ("B-PER", "O"))]
    with pytest.raises(DataError, match="-DOCSTART-"):
        write_conll(tmp_path / "f.txt", sents)
    assert not (tmp_path / "f.txt").exists()  # atomic: nothing half-written


@pytest.mark.parametrize("first", ["\ufeffx", "\ufeff", "\ufeff\ufeffx"])
def test_leading_bom_character_survives_a_round_trip(tmp_path: Path, first: str) -> None:
    """The reader strips one byte-order mark at the start of a file, and only there."""
    sents = [Sentence((first, "y"), ("O", "B-PER")), Sentence(("\ufeffz",), ("O",))]
    write_conll(tmp_path / "f.txt", sents)
    assert [s.tokens for s in read_conll(tmp_path / "f.txt")] == [(first, "y"), ("\ufeffz",)]
