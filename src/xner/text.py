"""Raw text -> sentences of tokens with exact character offsets (syntok underneath)."""

from __future__ import annotations

from dataclasses import dataclass

import syntok.segmenter as segmenter


@dataclass(frozen=True, slots=True)
class TokenSpan:
    """One token: ``text == source[start:end]`` for the string it was cut from."""

    text: str
    start: int
    end: int


def split_text(text: str) -> list[list[TokenSpan]]:
    """Sentence-split and tokenise ``text``; every token carries its offsets into ``text``.

    Whitespace-only or empty text gives no sentences.
    """
    sentences: list[list[TokenSpan]] = []
    cursor = 0
    for paragraph in segmenter.analyze(text):
        for raw_sentence in paragraph:
            sentence: list[TokenSpan] = []
            for token in raw_sentence:
                span = _locate(text, token.value, token.offset, cursor)
                cursor = span.end
                sentence.append(span)
            if sentence:
                sentences.append(_join_camel_case(text, sentence))
    return sentences


def _join_camel_case(text: str, sentence: list[TokenSpan]) -> list[TokenSpan]:
    """Undo syntok's split at a lower->upper case change inside a word ("LeCun" -> "Le", "Cun").

    That rule is meant for a missing space after a sentence end; in NER data names such as
    LeCun, DeepMind, iPhone or YouTube are single tokens, so touching letter pieces are rejoined.
    """
    out = [sentence[0]]
    for tok in sentence[1:]:
        prev = out[-1]
        if prev.end == tok.start and prev.text[-1:].islower() and tok.text[:1].isupper():
            out[-1] = TokenSpan(text[prev.start:tok.end], prev.start, tok.end)
        else:
            out.append(tok)
    return out


def _locate(text: str, value: str, offset: int, cursor: int) -> TokenSpan:
    """Offsets for one token, guaranteeing that the span is a slice of the original text.

    syntok reports offsets into the original string; this check guards against a future
    syntok that normalises a token's value (its "don't" -> "do not" option does), in which
    case we fall back to the next occurrence, or to the reported offset and length.
    """
    if text.startswith(value, offset):
        return TokenSpan(value, offset, offset + len(value))
    found = text.find(value, cursor)
    if found >= 0:
        return TokenSpan(value, found, found + len(value))
    start = max(offset, cursor)
    end = min(len(text), start + max(1, len(value)))
    return TokenSpan(text[start:end], start, end)


def tokenize(text: str) -> list[list[str]]:
    """Just the token strings of :func:`split_text`, one list per sentence."""
    return [[tok.text for tok in sentence] for sentence in split_text(text)]
