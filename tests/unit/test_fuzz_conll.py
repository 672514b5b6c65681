"""Fuzz the CoNLL readers with random and mutated bytes: a result or a one-line DataError."""

from __future__ import annotations

import tempfile
from pathlib import Path

from _fuzz import FUZZ, check_outcome, fuzzed
from hypothesis import given
from hypothesis import strategies as st

from xner.data.conll import read_conll, read_prediction_file
from xner.data.tags import is_valid_iob2

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEEDS = {name: (FIXTURES / "conll" / name).read_bytes()
         for name in ("iob2.txt", "iob1.txt", "bioes.txt", "crlf_bom.txt", "spaces.txt", "tab_spaces.txt")}
PREDICTIONS = (FIXTURES / "conll" / "predictions.txt").read_bytes()
seeds = st.sampled_from(sorted(SEEDS)).flatmap(lambda name: fuzzed(SEEDS[name]))


def _write(folder: str, data: bytes) -> Path:
    path = Path(folder) / "fuzzed.txt"
    path.write_bytes(data)
    return path


@FUZZ
@given(seeds, st.sampled_from(["auto", "iob1", "iob2", "bioes"]), st.booleans())
def test_read_conll_loads_or_fails_cleanly(data: bytes, scheme: str, repair: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, data)
        result: list = []
        outcome = check_outcome(lambda: result.extend(read_conll(path, scheme=scheme, repair=repair)),
                                str(path))
    if outcome == "ok":  # what loads is well-formed: IOB2, one tag per token, no empty sentence
        assert result and all(len(s) > 0 and is_valid_iob2(s.tags) for s in result)
        assert all(tok.strip() == tok and tok for s in result for tok in s.tokens)


@FUZZ
@given(fuzzed(PREDICTIONS))
def test_read_prediction_file_loads_or_fails_cleanly(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, data)
        result: list = []
        outcome = check_outcome(lambda: result.append(read_prediction_file(path)), str(path))
    if outcome == "ok":
        gold, pred = result[0]
        assert [len(s) for s in gold] == [len(p) for p in pred]


def test_the_check_tells_both_outcomes_apart(tmp_path: Path) -> None:
    """Not vacuous: the seeds load, and a NUL byte or a bad UTF-8 byte is a clean error."""
    for name, data in SEEDS.items():
        assert check_outcome(lambda d=data: read_conll(_write(str(tmp_path), d)), None) == "ok", name
    bad = SEEDS["iob2.txt"].replace(b"\n", b"\n\x00", 1)
    assert check_outcome(lambda: read_conll(_write(str(tmp_path), bad)), str(tmp_path)) == "error"
    bad = SEEDS["iob2.txt"] + b"caf\xe9\tO\n"
    assert check_outcome(lambda: read_conll(_write(str(tmp_path), bad)), str(tmp_path)) == "error"


def test_other_whitespace_around_a_column_is_stripped(tmp_path: Path) -> None:
    """Found by the fuzz test: a vertical tab (not a space, not a tab) led a token."""
    for data in (b"\x0bJohn\tB-PER\nvisited\tO\n", b"\x0bJohn B-PER\nvisited\x0c O\n", b"John\x0b\tB-PER\n"):
        sentences = read_conll(_write(str(tmp_path), data))
        assert [s.tokens for s in sentences][0][0] == "John", data
        assert all(tok.strip() == tok for s in sentences for tok in s.tokens)
