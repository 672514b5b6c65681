"""Catalogue of bad data inputs: each gives one DataError line naming file (and line), exit 2."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from xner.data.conll import load_corpus, load_domain, read_conll, read_prediction_file
from xner.errors import DataError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BAD = FIXTURES / "bad" / "conll"
GOOD = FIXTURES / "conll"


@dataclass(frozen=True)
class Case:
    """One bad input: how to read it, what the message must say, where it must point."""

    path: Path
    expected: str
    line: int | None = None
    reader: str = "conll"  # conll | prediction | domain | corpus
    kwargs: dict[str, Any] = field(default_factory=dict)
    cli: tuple[str, ...] | None = ()  # () = `data check PATH` with the same scheme; None = no CLI
    cli_expected: str | None = None
    where: Path | None = None  # the file the message must name, when not ``path``


CASES: dict[str, Case] = {
    "missing tag column": Case(BAD / "missing_tag_column.txt", "missing tag column", 1),
    "ragged columns": Case(
        BAD / "ragged_columns.txt", "the line has 1 columns but line 1 has 2", 3
    ),
    "token with a space": Case(
        BAD / "token_with_space.txt", "the line has 2 columns but line 1 has 3", 2
    ),
    "empty file": Case(BAD / "empty.txt", "file is empty"),
    "only blank lines": Case(BAD / "blank_only.txt", "file has no sentences"),
    "binary file": Case(BAD / "binary.txt", "binary file (NUL byte)", 2),
    "not utf-8": Case(BAD / "not_utf8.txt", "not valid UTF-8 (byte 0xfc at column 2)", 3),
    "unknown tag prefix": Case(BAD / "malformed_tag.txt", "malformed tag 'X-foo'", 2),
    "prefix without type": Case(BAD / "prefix_without_type.txt", "tag 'B-' has no entity type", 3),
    "lower-case prefix": Case(BAD / "lowercase_tag.txt", "malformed tag 'b-foo'", 1),
    "iob2 I- after O": Case(
        BAD / "iob2_i_after_o.txt", "I-PER follows O", 3, kwargs={"scheme": "iob2"}
    ),
    "auto I- after O": Case(BAD / "auto_i_after_o.txt", "I-PER follows O", 5),
    "I- after other type": Case(BAD / "i_after_other_type.txt", "I-LOC follows B-PER", 2),
    "bioes E- after O": Case(BAD / "bioes_end_after_o.txt", "E-LOC follows O", 2),
    "bioes tag read as iob2": Case(
        BAD / "bioes_tags.txt", "BIOES tag but the file is read as IOB2", 1,
        kwargs={"scheme": "iob2"},
    ),
    "unknown scheme": Case(
        GOOD / "iob2.txt", "unknown tag scheme 'iob3'", kwargs={"scheme": "iob3"}
    ),
    "tag column out of range": Case(
        GOOD / "iob2.txt", "no tag column 4: the line has 2 columns", 3,
        kwargs={"tag_column": 4}, cli=None,
    ),
    "directory instead of file": Case(
        GOOD / "root" / "notes", "is a directory", cli_expected="no domain folders"
    ),
    "missing file": Case(BAD / "does_not_exist.txt", "file not found"),
    "domain missing a split": Case(
        BAD / "domain_missing_split", "domain folder is missing test.txt", reader="domain"
    ),
    "broken domain in a root": Case(
        BAD / "root_with_broken_domain", "I-X follows O", 3, reader="corpus",
        where=BAD / "root_with_broken_domain" / "broken" / "test.txt",
    ),
    "prediction file without pred column": Case(
        BAD / "predictions_two_columns.txt", "expected at least 3", 1, reader="prediction",
        cli=None,
    ),
    "unknown domain": Case(
        GOOD / "root", "unknown domain(s) gamma (found: alpha, beta)", reader="corpus",
        kwargs={"names": ["gamma"]}, cli=("data", "stats", "--data", str(GOOD / "root"),
                                          "--domain", "gamma"),
    ),
    "root without domains": Case(
        GOOD / "root" / "notes", "no domain folders", reader="corpus",
        cli=("data", "stats", "--data", str(GOOD / "root" / "notes")),
        cli_expected="has no domain folder",
    ),
}


def _read(case: Case) -> object:
    if case.reader == "conll":
        return read_conll(case.path, **case.kwargs)
    if case.reader == "prediction":
        return read_prediction_file(case.path, **case.kwargs)
    if case.reader == "domain":
        return load_domain(case.path, **case.kwargs)
    return load_corpus(case.path, **case.kwargs)


def test_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 15
    assert sum(case.cli is not None for case in CASES.values()) >= 15


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_raises_one_line_with_file_and_line(name: str) -> None:
    case = CASES[name]
    with pytest.raises(DataError) as info:
        _read(case)
    message = str(info.value)
    assert "\n" not in message
    assert case.expected in message
    if name != "unknown scheme":  # a scheme name is not about any file
        where = str(case.where or case.path)
        assert (f"{where}:{case.line}: " if case.line else f"{where}: ") in message
    assert info.value.line == case.line


def _cli_args(case: Case) -> list[str]:
    if case.cli:
        return list(case.cli)
    args = ["data", "check", str(case.path)]
    if "scheme" in case.kwargs:
        args += ["--scheme", case.kwargs["scheme"]]
    return args


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.cli is not None])
def test_bad_input_through_cli_exits_2_with_one_line(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from xner.cli import main

    case = CASES[name]
    monkeypatch.setattr(sys, "argv", ["xner", *_cli_args(case)])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    assert info.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert (case.cli_expected or case.expected) in lines[0]
    assert "Traceback" not in out + err


def test_cli_subprocess_bad_file_no_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xner", "data", "check", str(BAD / "not_utf8.txt")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {BAD / 'not_utf8.txt'}:3: not valid UTF-8 (byte 0xfc at column 2); "
        "save the file as UTF-8"
    ]
