"""The one reader of column files (CoNLL and its kin): a column spec says what to keep.

A file holds one token per line, ``token<TAB or spaces>...``, and a blank line between
sentences (several blank lines are one break). ``-DOCSTART-`` lines are sentence breaks too;
CRLF line ends and a UTF-8 byte-order mark are accepted. A line with a tab is split on tabs
(so a token may hold spaces), any other line on spaces.

:class:`ColumnSpec` names the columns to keep, like flair's ``column_format``:
``ColumnSpec({0: "text", 3: "ner"})``; a negative index counts from the end of the line, so
``{0: "text", -1: "ner"}`` is "token first, tag last". The data loader, ``xner predict``,
review import and prediction files all read through :func:`read_columns`. Every problem is a
DataError naming the file and, where there is one, the line.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from xner.data.tags import tag_problem
from xner.errors import DataError

TEXT = "text"  # the column name of the token


@dataclass(frozen=True)
class ColumnSpec:
    """Which columns to keep, under which names, and how strictly to read the lines.

    ``min_width``: fewer columns on a line is an error. ``same_width``: every line must be as
    wide as the first (this is how a missing tag column is caught). ``tabs_only``: a line
    without a tab is one column. ``comments``: a line starting with ``#`` and holding no tab is
    a comment kept with its sentence. ``keep_rows``: keep each line and all its fields.
    """

    columns: Mapping[int, str] = field(default_factory=lambda: {0: TEXT, -1: "ner"})
    min_width: int = 2
    same_width: bool = True
    tabs_only: bool = False
    comments: bool = False
    keep_rows: bool = False


class Row(NamedTuple):
    """One token line: its number, its text (right-stripped) and all its fields."""

    line: int
    text: str
    fields: list[str]


@dataclass(slots=True)
class Block:
    """One sentence: its first line, the kept columns by name and, if asked, rows and comments.

    A block with no tokens holds only comments (read with ``comments``); ``line`` is then the
    line of its first comment.
    """

    line: int
    columns: dict[str, list[str]]
    rows: list[Row] = field(default_factory=list)
    comments: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))


def read_utf8_text(path: Path, kind: str = "CoNLL file", allow_empty: bool = False) -> str:
    """Read ``path`` as UTF-8 text (a BOM dropped), turning every way it can fail into a
    one-line DataError; ``kind`` names what was expected in the messages."""
    if not path.exists():
        raise DataError("file not found", path)
    if path.is_dir():
        raise DataError(f"is a directory, expected a {kind}", path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read file ({err.strerror or err})", path) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if not allow_empty and not data.strip():
        raise DataError("file is empty", path)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataError(f"looks like a binary file (NUL byte), expected a {kind}", path, line)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        bad = data[err.start]
        raise DataError(
            f"not valid UTF-8 (byte 0x{bad:02x} at column {column}); save the file as UTF-8",
            path, line,
        ) from None


def split_fields(line: str, tabs_only: bool = False) -> list[str]:
    """The columns of a right-stripped line: tab-separated if it has a tab, else space-separated.

    >>> split_fields("New York\\tB-LOC"), split_fields("EU  B-ORG"), split_fields("a b", True)
    (['New York', 'B-LOC'], ['EU', 'B-ORG'], ['a b'])
    """
    if "\t" in line:
        fields = line.split("\t")
        if " " in line or "" in fields or not "".join(fields).isprintable():
            # Stray spaces (or other whitespace, such as a vertical tab) around tabs, doubled tabs:
            # strip columns and drop empty ones.
            fields = [f for f in (part.strip() for part in fields) if f]
        return fields
    if tabs_only:
        return [line.strip()]
    if not line.isprintable():  # whitespace other than " " (a vertical tab, say) is not a column's
        return [f for f in (part.strip() for part in line.split(" ")) if f]
    return [f for f in line.split(" ") if f]


CONLL_SUFFIXES = {".conll", ".conllu", ".tsv", ".bio", ".iob", ".iob2", ".col"}


def _is_tag(field: str) -> bool:
    # BILOU's U- counts too: a gold column in any scheme marks a CoNLL file.
    return tag_problem(field) is None or (field.startswith("U-") and len(field) > 2)


def looks_like_conll(path: Path, text: str) -> bool:
    """CoNLL by suffix, or when every non-blank line is ``token<space/tab>...TAG``."""
    if path.suffix.lower() in CONLL_SUFFIXES:
        return True
    lines = [split_fields(line) for line in (raw.rstrip() for raw in text.splitlines())
             if line and not line.startswith("-DOCSTART-")]
    return bool(lines) and all(len(f) >= 2 and _is_tag(f[-1]) for f in lines)


def _resolve(spec: ColumnSpec, width: int, path: Path, line: int) -> list[tuple[str, int]]:
    """``(name, absolute index)`` of every kept column on a line of ``width`` columns."""
    out = []
    for column, name in spec.columns.items():
        index = column if column >= 0 else width + column
        # Only the token may be column 0: a tag column that lands there is missing.
        if index < 0 or index >= width or (index == 0 and name != TEXT):
            what = "token" if name == TEXT else "tag"
            raise DataError(f"no {what} column {column}: the line has {width} columns", path, line)
        out.append((name, index))
    return out


def _check_width(spec: ColumnSpec, width: int, first: tuple[int, int], path: Path, line: int) -> None:
    """Reject a line narrower than ``spec.min_width`` or (same_width) than the file's first."""
    first_width, first_line = first
    if spec.same_width and first_width and width != first_width:
        raise DataError(
            f"the line has {width} columns but line {first_line} has {first_width} (a "
            "missing tag column, or a token containing a space in a space-separated file)",
            path, line,
        )
    if width < spec.min_width:
        raise DataError(
            f"missing tag column: the line has {width} column(s), expected at least "
            f"{spec.min_width} (token ... tag)", path, line,
        )


def _comment_block(spec: ColumnSpec, comments: list[tuple[int, str]]) -> Block:
    """A sentence of comments only (a header, an emptied sentence)."""
    return Block(comments[0][0], {name: [] for name in spec.columns.values()}, comments=comments)


def read_columns(path: Path, spec: ColumnSpec, text: str | None = None) -> list[Block]:
    """The sentences of a column file (``text`` if given, else the file read as UTF-8).

    Returns no blocks for a file without sentences: the caller says what it expected.
    """
    if text is None:
        text = read_utf8_text(path)
    blocks: list[Block] = []
    block: Block | None = None
    pending: list[tuple[int, str]] = []  # comments waiting for their sentence
    first = (0, 0)  # width and line number of the first token line
    indices: list[tuple[str, int]] = []
    block_cols: list[tuple[list[str], int]] | None = None
    # Locals, not attribute look-ups, in the loop: corpora have hundreds of thousands of lines.
    comments, tabs_only, keep_rows, same_width = spec.comments, spec.tabs_only, spec.keep_rows, spec.same_width
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip()
        if not line or (line[0] == "-" and line.startswith("-DOCSTART-")):
            if pending:
                blocks.append(_comment_block(spec, pending))
                pending = []
            block = None
            continue
        if comments and line[0] == "#" and "\t" not in line:
            (block.comments if block is not None else pending).append((lineno, line))
            continue
        fields = split_fields(line, tabs_only)
        if len(fields) != first[0] or not same_width:
            _check_width(spec, len(fields), first, path, lineno)
            if not first[0]:
                first = (len(fields), lineno)
            indices = _resolve(spec, len(fields), path, lineno)
            block_cols = None  # the kept columns' indices may have moved
        if block is None:
            block = Block(lineno, {name: [] for name, _ in indices}, comments=pending)
            blocks.append(block)
            pending = []
            block_cols = None
        if block_cols is None:
            block_cols = [(block.columns[name], index) for name, index in indices]
        for column, index in block_cols:
            column.append(fields[index])
        if keep_rows:
            block.rows.append(Row(lineno, line, fields))
    if pending:
        blocks.append(_comment_block(spec, pending))
    return blocks
