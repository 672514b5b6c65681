"""Read and write CoNLL column files; load domain folders and corpora.

Lines are read by :mod:`xner.data.columns` (one token per line, a blank line between
sentences; which columns hold the token and the tag is a column spec). Tags come out as IOB2
(see :mod:`xner.data.tags`). Every problem is a DataError naming the file and, where there is
one, the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

from xner.atomic import atomic_open
from xner.data.columns import TEXT, Block, ColumnSpec, read_columns
from xner.data.corpus import SPLITS, Corpus, Domain, Sentence
from xner.data.tags import SchemeViolation, check_scheme_name, detect_scheme, tag_problem, to_iob2
from xner.errors import DataError

SPLIT_FILES: dict[str, str] = {split: f"{split}.txt" for split in SPLITS}
NER = "ner"  # the column name of the entity tag
_GOLD, _PRED = "gold", "pred"
_NO_SENTENCES = "file has no sentences (only blank lines or -DOCSTART-)"


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Sentences of one file, the scheme they were read as and how many tags were repaired."""

    sentences: list[Sentence]
    scheme: str
    repaired: int


def conll_spec(tag_column: int = -1, columns: Mapping[int, str] | ColumnSpec | None = None) -> ColumnSpec:
    """The spec of a CoNLL file: ``columns`` (naming a "text" and an "ner" column) if given,
    else the token first and the tag in ``tag_column`` (default the last).

    >>> conll_spec(columns={0: "text", 3: "ner"}).columns
    {0: 'text', 3: 'ner'}
    """
    if isinstance(columns, ColumnSpec):
        spec = columns
    elif columns is not None:
        spec = ColumnSpec(dict(columns))
    elif tag_column == 0:
        raise DataError("no tag column 0: the token is column 0")
    else:
        spec = ColumnSpec({0: TEXT, tag_column: NER})
    missing = {TEXT, NER} - set(spec.columns.values())
    if missing:
        raise DataError(f"the column spec names no {' and no '.join(sorted(missing))} column "
                        f"(got {dict(spec.columns)}; e.g. {{0: 'text', -1: 'ner'}})")
    return spec


def _read_blocks(path: Path, spec: ColumnSpec) -> list[Block]:
    blocks = [b for b in read_columns(path, spec) if len(b)]
    if not blocks:
        raise DataError(_NO_SENTENCES, path)
    return blocks


def _check_tags(path: Path, blocks: list[Block], column: str) -> None:
    """Reject malformed tags, naming the first line where one occurs."""
    distinct = {tag for block in blocks for tag in block.columns[column]}
    bad = {tag: problem for tag in distinct if (problem := tag_problem(tag)) is not None}
    if not bad:
        return
    for block in blocks:
        for offset, tag in enumerate(block.columns[column]):
            if tag in bad:
                raise DataError(bad[tag], path, block.line + offset)


def _convert(path: Path, blocks: list[Block], column: str, scheme: str, repair: bool) -> int:
    """Convert one tag column of every block to IOB2 in place; return the repair count."""
    repaired = 0
    for block in blocks:
        try:
            block.columns[column], fixed = to_iob2(block.columns[column], scheme, repair)
        except SchemeViolation as err:
            raise DataError(err.message, path, block.line + err.index) from None
        repaired += fixed
    return repaired


def _sentences(blocks: list[Block], tags: str, domain: str, name: str) -> list[Sentence]:
    return [Sentence(tuple(b.columns[TEXT]), tuple(b.columns[tags]), domain, name, b.line) for b in blocks]


def read_conll_info(
    path: str | Path,
    domain: str = "",
    scheme: str = "auto",
    repair: bool = False,
    tag_column: int = -1,
    columns: Mapping[int, str] | ColumnSpec | None = None,
) -> ReadResult:
    """Read a CoNLL file; also report the scheme it was read as and the repairs made."""
    wanted = check_scheme_name(scheme)
    file = Path(path)
    blocks = _read_blocks(file, conll_spec(tag_column, columns))
    _check_tags(file, blocks, NER)
    used = detect_scheme(b.columns[NER] for b in blocks) if wanted == "auto" else wanted
    repaired = _convert(file, blocks, NER, used, repair)
    return ReadResult(_sentences(blocks, NER, domain, str(path)), used, repaired)


class ReadOptions(TypedDict, total=False):
    """How ``read_conll_info`` reads a file (its keyword arguments after ``domain``)."""

    scheme: str
    repair: bool
    tag_column: int
    columns: Mapping[int, str] | ColumnSpec | None


def read_conll(path: str | Path, domain: str = "", **options: Unpack[ReadOptions]) -> list[Sentence]:
    """Read a CoNLL file into IOB2 sentences: the tag is column ``tag_column`` (default the
    last), or the column named "ner" in ``columns`` (e.g. ``{0: "text", 3: "ner"}``)."""
    return read_conll_info(path, domain, **options).sentences


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
    blocks = _read_blocks(file, ColumnSpec({0: TEXT, -2: _GOLD, -1: _PRED}, min_width=3))
    _check_tags(file, blocks, _GOLD)
    _check_tags(file, blocks, _PRED)
    used = detect_scheme(b.columns[_GOLD] for b in blocks) if wanted == "auto" else wanted
    _convert(file, blocks, _GOLD, used, repair=False)
    if used == "iob2":
        _reject_bioes(file, blocks)
    else:
        _convert(file, blocks, _PRED, used, repair=True)
    return _sentences(blocks, _GOLD, domain, str(path)), [b.columns[_PRED] for b in blocks]


def _reject_bioes(path: Path, blocks: list[Block]) -> None:
    """In an IOB2 file the prediction column may not use E-/S- tags."""
    for block in blocks:
        for offset, tag in enumerate(block.columns[_PRED]):
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
        setattr(domain, split, read_conll(file, domain.name, scheme=scheme, repair=repair))
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
