"""Read and write CoNLL column files; load domain folders and corpora.

A file holds one token per line, ``token<TAB or spaces>...<tag>``, and a blank line between
sentences (several blank lines are one break). ``-DOCSTART-`` lines are skipped, CRLF line ends
and a UTF-8 byte-order mark are accepted. Tags come out as IOB2 (see ``xner.data.schemes``).
Every problem is a DataError naming the file and, where there is one, the line.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xner.atomic import atomic_open
from xner.data.corpus import SPLITS, Corpus, Domain, Sentence
from xner.data.schemes import (
    SchemeViolation,
    check_scheme_name,
    detect_scheme,
    tag_problem,
    to_iob2,
)
from xner.errors import DataError

SPLIT_FILES: dict[str, str] = {split: f"{split}.txt" for split in SPLITS}


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Sentences of one file, the scheme they were read as and how many tags were repaired."""

    sentences: list[Sentence]
    scheme: str
    repaired: int


@dataclass(slots=True)
class _Block:
    """A sentence as parsed: first line, tokens and one tag list per requested column."""

    line: int
    tokens: list[str]
    columns: list[list[str]]


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


def _clean_fields(parts: list[str]) -> list[str]:
    """Strip columns and drop empty ones (stray spaces around tabs, doubled tabs)."""
    return [field for field in (part.strip() for part in parts) if field]


def _resolve_column(column: int, width: int, path: Path, line: int) -> int:
    """Absolute index of a (possibly negative) tag column; column 0 is the token."""
    index = column if column >= 0 else width + column
    if index <= 0 or index >= width:
        raise DataError(f"no tag column {column}: the line has {width} columns", path, line)
    return index


def _parse(path: Path, text: str, columns: Sequence[int], min_width: int) -> list[_Block]:
    """Split ``text`` into sentences, keeping the requested tag columns."""
    blocks: list[_Block] = []
    in_block = False
    tokens: list[str] = []
    tags: list[list[str]] = []
    width = width_line = 0
    indices: list[int] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip()
        if not line or (line[0] == "-" and line.startswith("-DOCSTART-")):
            in_block = False
            continue
        # Tab-separated when the line has a tab (tokens may then hold spaces), else spaces.
        if "\t" in line:
            fields = line.split("\t")
            if " " in line or "" in fields:
                fields = _clean_fields(fields)
        else:
            fields = [field for field in line.split(" ") if field]
        if len(fields) != width:
            if width:
                raise DataError(
                    f"the line has {len(fields)} columns but line {width_line} has {width} (a "
                    "missing tag column, or a token containing a space in a space-separated file)",
                    path, lineno,
                )
            width, width_line = len(fields), lineno
            if width < min_width:
                raise DataError(
                    f"missing tag column: the line has {width} column(s), expected at least "
                    f"{min_width} (token ... tag)", path, lineno,
                )
            indices = [_resolve_column(c, width, path, lineno) for c in columns]
        if not in_block:
            tokens, tags = [], [[] for _ in indices]
            blocks.append(_Block(lineno, tokens, tags))
            in_block = True
        tokens.append(fields[0])
        for column, index in enumerate(indices):
            tags[column].append(fields[index])
    if not blocks:
        raise DataError("file has no sentences (only blank lines or -DOCSTART-)", path)
    return blocks


def _check_tags(path: Path, blocks: list[_Block], column: int) -> None:
    """Reject malformed tags, naming the first line where one occurs."""
    distinct = {tag for block in blocks for tag in block.columns[column]}
    bad = {tag: problem for tag in distinct if (problem := tag_problem(tag)) is not None}
    if not bad:
        return
    for block in blocks:
        for offset, tag in enumerate(block.columns[column]):
            if tag in bad:
                raise DataError(bad[tag], path, block.line + offset)


def _convert(path: Path, blocks: list[_Block], column: int, scheme: str, repair: bool) -> int:
    """Convert one tag column of every block to IOB2 in place; return the repair count."""
    repaired = 0
    for block in blocks:
        try:
            block.columns[column], fixed = to_iob2(block.columns[column], scheme, repair)
        except SchemeViolation as err:
            raise DataError(err.message, path, block.line + err.index) from None
        repaired += fixed
    return repaired


def read_conll_info(
    path: str | Path,
    domain: str = "",
    scheme: str = "auto",
    repair: bool = False,
    tag_column: int = -1,
) -> ReadResult:
    """Read a CoNLL file; also report the scheme it was read as and the repairs made."""
    wanted = check_scheme_name(scheme)
    file = Path(path)
    blocks = _parse(file, read_utf8_text(file), [tag_column], 2)
    _check_tags(file, blocks, 0)
    used = detect_scheme(b.columns[0] for b in blocks) if wanted == "auto" else wanted
    repaired = _convert(file, blocks, 0, used, repair)
    name = str(path)
    sentences = [
        Sentence(tuple(b.tokens), tuple(b.columns[0]), domain, name, b.line) for b in blocks
    ]
    return ReadResult(sentences, used, repaired)


def read_conll(
    path: str | Path,
    domain: str = "",
    scheme: str = "auto",
    repair: bool = False,
    tag_column: int = -1,
) -> list[Sentence]:
    """Read a CoNLL file into IOB2 sentences (tag = column ``tag_column``, default the last)."""
    return read_conll_info(path, domain, scheme, repair, tag_column).sentences


def read_prediction_file(
    path: str | Path, scheme: str = "auto", domain: str = ""
) -> tuple[list[Sentence], list[list[str]]]:
    """Read ``token ... gold pred`` columns: gold sentences (IOB2) and the predicted tags.

    Predictions are checked for spelling but kept as they are when the file is IOB2, so an
    evaluator still sees a model's invalid ``I-`` starts; IOB1/BIOES predictions are converted
    with the same scheme as the gold column.
    """
    wanted = check_scheme_name(scheme)
    file = Path(path)
    blocks = _parse(file, read_utf8_text(file), [-2, -1], 3)
    _check_tags(file, blocks, 0)
    _check_tags(file, blocks, 1)
    used = detect_scheme(b.columns[0] for b in blocks) if wanted == "auto" else wanted
    _convert(file, blocks, 0, used, repair=False)
    if used == "iob2":
        _reject_bioes(file, blocks)
    else:
        _convert(file, blocks, 1, used, repair=True)
    name = str(path)
    sentences = [
        Sentence(tuple(b.tokens), tuple(b.columns[0]), domain, name, b.line) for b in blocks
    ]
    return sentences, [b.columns[1] for b in blocks]


def _reject_bioes(path: Path, blocks: list[_Block]) -> None:
    """In an IOB2 file the prediction column may not use E-/S- tags."""
    for block in blocks:
        for offset, tag in enumerate(block.columns[1]):
            if tag[0] in "ES":
                raise DataError(
                    f"predicted tag {tag!r} is a BIOES tag but the gold column is IOB2",
                    path, block.line + offset,
                )


def _token_problem(token: str) -> str | None:
    """Why ``token`` would not read back as itself ("" for a plain refusal), or None if it would."""
    if not token.strip() or "\t" in token or "\n" in token or "\r" in token:
        return ""
    if token.startswith("-DOCSTART-"):
        # Every xner reader (here and in `xner predict`) skips such a line as a document marker.
        return " (a line starting with -DOCSTART- reads as a document marker)"
    return None


def _format_sentence(sentence: Sentence, predicted: Sequence[str] | None) -> str:
    if predicted is not None and len(predicted) != len(sentence.tokens):
        raise ValueError(
            f"{len(predicted)} predicted tags for a sentence of {len(sentence)} tokens "
            f"({sentence.file}:{sentence.line})"
        )
    lines = []
    for index, token in enumerate(sentence.tokens):
        problem = _token_problem(token)
        if problem is not None:
            raise DataError(f"token {token!r} cannot be written to a CoNLL file{problem}",
                            sentence.file or None, sentence.line + index if sentence.line else None)
        row = [token, sentence.tags[index]]
        if predicted is not None:
            row.append(predicted[index])
        lines.append("\t".join(row))
    return "\n".join(lines) + "\n\n"


def write_conll(
    path: str | Path,
    sentences: Sequence[Sentence],
    predictions: Sequence[Sequence[str]] | None = None,
) -> None:
    """Write ``token<TAB>gold[<TAB>pred]`` lines, a blank line after each sentence, atomically.

    Sentences without tokens are skipped: a CoNLL file cannot hold them. A token starting
    with ``-DOCSTART-`` is refused (DataError). When the first token starts with U+FEFF the
    file starts with a byte-order mark, so the reader's BOM stripping leaves the token whole.
    """
    if predictions is not None and len(predictions) != len(sentences):
        raise ValueError(f"{len(predictions)} predictions for {len(sentences)} sentences")
    first = next((s.tokens[0] for s in sentences if len(s) > 0), "")
    with atomic_open(path, "w") as handle:
        if first.startswith("\ufeff"):
            handle.write("\ufeff")
        for index, sentence in enumerate(sentences):
            if len(sentence) == 0:
                continue
            handle.write(_format_sentence(
                sentence, predictions[index] if predictions is not None else None
            ))


def domain_files(folder: str | Path) -> dict[str, Path]:
    """The split files of a domain folder, or a DataError naming the missing ones."""
    root = Path(folder)
    if not root.exists():
        raise DataError("domain folder not found", root)
    if not root.is_dir():
        raise DataError("expected a domain folder (with train.txt, dev.txt, test.txt)", root)
    files = {split: root / name for split, name in SPLIT_FILES.items()}
    missing = [name for split, name in SPLIT_FILES.items() if not files[split].is_file()]
    if missing:
        raise DataError(
            f"domain folder is missing {', '.join(missing)} "
            "(a domain needs train.txt, dev.txt and test.txt)", root,
        )
    return files


def load_domain(
    folder: str | Path, name: str | None = None, scheme: str = "auto", repair: bool = False
) -> Domain:
    """Read the train/dev/test files of a domain folder; the name defaults to the folder's."""
    files = domain_files(folder)
    domain = Domain(name or Path(folder).resolve().name)
    for split, file in files.items():
        setattr(domain, split, read_conll(file, domain.name, scheme, repair))
    return domain


def discover_domains(root: str | Path, complete_only: bool = False) -> list[str]:
    """Names of the sub-folders of ``root`` that hold split files (all three if complete_only)."""
    base = Path(root)
    if not base.is_dir():
        return []
    names = []
    for child in sorted(base.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        present = [(child / name).is_file() for name in SPLIT_FILES.values()]
        if all(present) or (any(present) and not complete_only):
            names.append(child.name)
    return names


def load_corpus(
    root: str | Path,
    names: Sequence[str] | None = None,
    scheme: str = "auto",
    repair: bool = False,
) -> Corpus:
    """Load the domains under ``root`` (all discovered ones, or just ``names``)."""
    base = Path(root)
    if not base.is_dir():
        raise DataError("data folder not found" if not base.exists() else "not a folder", base)
    found = discover_domains(base)
    if not found:
        raise DataError("no domain folders here (a domain is a folder with train.txt, "
                        "dev.txt and test.txt)", base)
    wanted = list(names) if names else found
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise DataError(
            f"unknown domain(s) {', '.join(unknown)} (found: {', '.join(found)})", base
        )
    return Corpus({name: load_domain(base / name, name, scheme, repair) for name in wanted})
