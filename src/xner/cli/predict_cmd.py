"""``xner predict``: tag a CoNLL file, a raw-text file or ``--text`` with a trained model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from xner.data.columns import TEXT, Block, ColumnSpec, read_columns, read_utf8_text, split_fields
from xner.data.tags import entity_spans, tag_problem
from xner.errors import ConfigError, DataError

_CONLL_SUFFIXES = {".conll", ".conllu", ".tsv", ".bio", ".iob", ".iob2", ".col"}
# Only the token column is read; the original line is kept so the output appends a tag column.
_TOKENS = ColumnSpec({0: TEXT}, min_width=1, same_width=False, keep_rows=True)


# ----------------------------------------------------------------------------- predict helpers

def _read_input(path: Path) -> str:
    """The file as text (UTF-8, BOM dropped); every failure is a one-line DataError."""
    return read_utf8_text(path, kind="text or CoNLL file", allow_empty=True)


def _is_tag(field: str) -> bool:
    # BILOU's U- counts too: a gold column in any scheme marks a CoNLL file.
    return tag_problem(field) is None or (field.startswith("U-") and len(field) > 2)


def _looks_like_conll(path: Path, text: str) -> bool:
    """CoNLL by suffix, or when every non-blank line is ``token<space/tab>...TAG``."""
    if path.suffix.lower() in _CONLL_SUFFIXES:
        return True
    lines = [split_fields(line) for line in (raw.rstrip() for raw in text.splitlines())
             if line and not line.startswith("-DOCSTART-")]
    return bool(lines) and all(len(f) >= 2 and _is_tag(f[-1]) for f in lines)


def _conll_sentences(path: Path, text: str) -> list[Block]:
    """The sentences of a CoNLL input (tokens from the first column, original lines kept)."""
    blocks = read_columns(path, _TOKENS, text)
    if not blocks:
        raise DataError("input has no sentences", path)
    return blocks


def _token_entities(tokens: list[str], tags: list[str]) -> list[dict[str, Any]]:
    return [{"text": " ".join(tokens[a:b]), "type": t, "token_start": a, "token_end": b}
            for t, a, b in entity_spans(tags)]


def _predict_conll(model: Any, path: Path, text: str, fmt: str) -> str:
    sentences = _conll_sentences(path, text)
    tags = model.predict_tokens([s.columns[TEXT] for s in sentences])
    if fmt == "conll":
        return "".join("".join(f"{row.text}\t{tag}\n" for row, tag in zip(s.rows, t)) + "\n"
                       for s, t in zip(sentences, tags))
    docs = [{"tokens": s.columns[TEXT], "tags": t, "entities": _token_entities(s.columns[TEXT], t)}
            for s, t in zip(sentences, tags)]
    return json.dumps(docs, ensure_ascii=False, indent=2) + "\n"


def _predict_text(model: Any, text: str, fmt: str, scores: bool) -> str:
    (analysis,) = model.analyze([text], scores=scores and fmt == "json")
    if fmt == "conll":
        return "".join("".join(f"{tok.text}\t{tag}\n" for tok, tag in zip(s, t)) + "\n"
                       for s, t in zip(analysis.sentences, analysis.tags))
    doc = {"text": text, "entities": [e.to_json() for e in analysis.entities]}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


# ----------------------------------------------------------------------------- predict

def predict_command(
    model: Annotated[Path, typer.Option("--model", help="Trained model folder.")],
    file: Annotated[Optional[Path], typer.Argument(help="CoNLL file (tokens in the first column) or a raw-text file.", show_default=False)] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="Raw text to tag instead of FILE.")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="conll or json (default: conll for CoNLL input, json for text).")] = None,
    input_kind: Annotated[str, typer.Option("--input", help="auto, conll or text: how to read FILE (auto: CoNLL if every line ends in a tag).")] = "auto",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write here instead of stdout.")] = None,
    scores: Annotated[bool, typer.Option("--scores", help="JSON entities from text carry a confidence score.")] = False,
    quantize: Annotated[bool, typer.Option("--quantize", help="Encoder models: predict with dynamic int8 encoder weights (xner evaluate --quantize measures the F1 cost).")] = False,
) -> None:
    """Tag a CoNLL file, a raw-text file or --text with a trained model."""
    from xner.api import load_model
    from xner.atomic import write_text

    if (file is None) == (text is None):
        raise ConfigError("give exactly one of FILE or --text")
    if fmt not in (None, "conll", "json"):
        raise ConfigError(f"--format must be conll or json, not {fmt!r}")
    if input_kind not in ("auto", "conll", "text"):
        raise ConfigError(f"--input must be auto, conll or text, not {input_kind!r}")
    content = text if file is None else _read_input(file)
    assert content is not None
    is_conll = file is not None and (input_kind == "conll" or (input_kind == "auto" and _looks_like_conll(file, content)))
    loaded = load_model(model, quantize=quantize)
    if is_conll:
        assert file is not None
        result = _predict_conll(loaded, file, content, fmt or "conll")
    else:
        result = _predict_text(loaded, content, fmt or "json", scores)
    if out is not None:
        write_text(out, result)
    else:
        sys.stdout.write(result)


def register(app: typer.Typer) -> None:
    """Add ``predict`` to the main app."""
    app.command("predict")(predict_command)
