"""``xner predict``: tag a CoNLL file, a raw-text file or ``--text`` with a trained model."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from xner.errors import ConfigError, DataError

_TAG = re.compile(r"^(O|[BIESU]-\S+)$")
_CONLL_SUFFIXES = {".conll", ".conllu", ".tsv", ".bio", ".iob", ".iob2", ".col"}


# ----------------------------------------------------------------------------- predict helpers

def _read_input(path: Path) -> str:
    """The file as text (UTF-8, BOM dropped); every failure is a one-line DataError."""
    from xner.data.conll import read_utf8_text

    return read_utf8_text(path, kind="text or CoNLL file", allow_empty=True)


def _looks_like_conll(path: Path, text: str) -> bool:
    """CoNLL by suffix, or when every non-blank line is ``token<space/tab>...TAG``."""
    if path.suffix.lower() in _CONLL_SUFFIXES:
        return True
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("-DOCSTART-")]
    return bool(lines) and all(len(f) >= 2 and _TAG.match(f[-1]) for f in lines)


def _conll_tokens(path: Path, text: str) -> list[list[tuple[str, str]]]:
    """Sentences of ``(token, original line)`` from the first column of a CoNLL file."""
    sentences: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line.strip() or line.startswith("-DOCSTART-"):
            if current:
                sentences.append(current)
            current = []
            continue
        token = line.split("\t")[0].strip() if "\t" in line else line.split()[0]
        current.append((token, line))
    if current:
        sentences.append(current)
    if not sentences:
        raise DataError("input has no sentences", path)
    return sentences


def _token_entities(tokens: list[str], tags: list[str]) -> list[dict[str, Any]]:
    from xner.api import token_entities

    return [{"text": " ".join(tokens[a:b + 1]), "type": t, "token_start": a, "token_end": b + 1}
            for t, a, b in token_entities(tags)]


def _predict_conll(model: Any, path: Path, text: str, fmt: str) -> str:
    sentences = _conll_tokens(path, text)
    tags = model.predict_tokens([[tok for tok, _ in s] for s in sentences])
    if fmt == "conll":
        return "".join("".join(f"{line}\t{tag}\n" for (_, line), tag in zip(s, t)) + "\n"
                       for s, t in zip(sentences, tags))
    docs = [{"tokens": [tok for tok, _ in s], "tags": t, "entities": _token_entities([tok for tok, _ in s], t)}
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
