"""Tags and entity spans: the one place where xner reads IOB1, IOB2 and BIOES.

A scheme is data (:class:`Scheme`): which prefixes it uses, which of them begin an entity,
which continue one of the same type, and which close their entity. One walker reads any
scheme through that table; spans, validation, conversion to IOB2 and repair all use it.

IOB2 is the internal scheme: every entity starts with ``B-TYPE`` and continues with ``I-TYPE``.
Spans are read as conlleval (and seqeval's default mode) read them: an inside tag that
cannot continue the entity before it (``I-X`` after ``O`` or after another type, or after a
BIOES ``E-``/``S-``) starts a new entity.

Auto-detection works on a whole file (one sentence is too little evidence):

* **BIOES** if any tag starts with ``E-`` or ``S-`` (no other scheme uses them).
* **IOB1** if some ``I-X`` starts an entity (it follows ``O``, the sentence start or another
  type) *and* no ``B-X`` does. IOB1 uses ``B-`` only to split two adjacent entities of the same
  type, so a ``B-X`` after ``O`` never occurs in IOB1, while an IOB2 file with any entity has
  one. A file that has both kinds of start is therefore IOB2 with mistakes, and those mistakes
  are reported (or repaired on request) rather than silently read as IOB1.
* **IOB2** otherwise (including a file with no entities at all).

BIOES is read leniently: a ``B-`` never closed by ``E-`` still makes an entity; only an inside
tag that starts an entity is a violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from xner.errors import DataError


@dataclass(frozen=True)
class Scheme:
    """A tag scheme as a table of prefix roles (every string is a set of one-letter prefixes)."""

    name: str
    prefixes: str  # the prefixes the scheme uses besides ``O``
    inside: str  # continue an open entity of the same type (anything else begins one)
    closing: str  # end their entity: the next tag cannot continue it
    inside_may_begin: bool  # an inside prefix may start an entity (IOB1) without a violation


IOB1 = Scheme("iob1", prefixes="BI", inside="I", closing="", inside_may_begin=True)
IOB2 = Scheme("iob2", prefixes="BI", inside="I", closing="", inside_may_begin=False)
BIOES = Scheme("bioes", prefixes="BIES", inside="IE", closing="ES", inside_may_begin=False)
SCHEMES: dict[str, Scheme] = {s.name: s for s in (IOB1, IOB2, BIOES)}
SCHEME_NAMES: tuple[str, ...] = ("auto", *SCHEMES)

_TAG = re.compile(r"(?:O|[BIES]-\S+)\Z")


class Span(NamedTuple):
    """An entity: ``tokens[start:end]`` (``end`` exclusive, like a slice) of type ``type``."""

    type: str
    start: int
    end: int


class SchemeViolation(ValueError):
    """A tag sequence breaks its scheme at token ``index`` (the caller adds file and line).

    ``repairable`` is True for an inside tag that starts an entity (repair makes it ``B-``).
    """

    def __init__(self, index: int, message: str, repairable: bool = False) -> None:
        super().__init__(message)
        self.index = index
        self.message = message
        self.repairable = repairable


def check_scheme_name(scheme: str) -> str:
    """The lower-cased scheme name, or DataError for an unknown one.

    >>> check_scheme_name("IOB2")
    'iob2'
    """
    name = scheme.lower()
    if name not in SCHEME_NAMES:
        raise DataError(f"unknown tag scheme {scheme!r} (choose one of: {', '.join(SCHEME_NAMES)})")
    return name


def get_scheme(scheme: Scheme | str) -> Scheme:
    """The :class:`Scheme` named ``scheme`` (``auto`` is not a scheme: detect it first)."""
    if isinstance(scheme, Scheme):
        return scheme
    found = SCHEMES.get(scheme.lower())
    if found is None:
        raise DataError(f"unknown tag scheme {scheme!r} (choose one of: {', '.join(SCHEMES)})")
    return found


def tag_problem(tag: str, scheme: Scheme | str | None = None) -> str | None:
    """Why ``tag`` is not a well-formed tag (of ``scheme``, when given), or None if it is one.

    >>> tag_problem("B-PER") is None, tag_problem("B-")
    (True, "tag 'B-' has no entity type after the prefix")
    >>> tag_problem("S-PER", "iob2")
    "tag 'S-PER' is not an IOB2 tag (O, B-TYPE or I-TYPE)"
    """
    if _TAG.match(tag):
        if scheme is None or tag == "O" or tag[0] in get_scheme(scheme).prefixes:
            return None
        table = get_scheme(scheme)
        shown = ", ".join(f"{p}-TYPE" for p in table.prefixes[:-1]) + f" or {table.prefixes[-1]}-TYPE"
        return f"tag {tag!r} is not an {table.name.upper()} tag (O, {shown})"
    if len(tag) == 2 and tag[1] == "-" and tag[0] in "BIES":
        return f"tag {tag!r} has no entity type after the prefix"
    return (
        f"malformed tag {tag!r}: expected O or B-/I-/E-/S- followed by a type "
        "(prefixes are upper-case)"
    )


def _walk(tags: Sequence[str], scheme: Scheme) -> Iterator[tuple[int, str, str, bool]]:
    """``(index, prefix, type, begins)`` for every non-``O`` tag, read through ``scheme``."""
    kind, can_continue = "", False
    for index, tag in enumerate(tags):
        if tag == "O":
            can_continue = False
            continue
        prefix, typ = tag[0], tag[2:]
        begins = not (can_continue and typ == kind and prefix in scheme.inside)
        kind, can_continue = typ, prefix not in scheme.closing
        yield index, prefix, typ, begins


def entity_spans(tags: Sequence[str], scheme: Scheme | str = IOB2) -> list[Span]:
    """The entities of one sentence's tags, read as conlleval reads them.

    >>> entity_spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])
    [Span(type='PER', start=0, end=2), Span(type='LOC', start=3, end=4), Span(type='LOC', start=4, end=5)]
    >>> entity_spans(["S-A", "B-B", "E-B", "I-B"], "bioes")
    [Span(type='A', start=0, end=1), Span(type='B', start=1, end=3), Span(type='B', start=3, end=4)]
    """
    spans: list[list[object]] = []
    for index, _, typ, begins in _walk(tags, get_scheme(scheme)):
        if begins:
            spans.append([typ, index, index + 1])
        else:
            spans[-1][2] = index + 1
    return [Span(*span) for span in spans]  # type: ignore[arg-type]


def iob2_tags(spans: Iterable[tuple[str, int, int]], length: int) -> list[str]:
    """IOB2 tags of ``length`` tokens holding the given (non-overlapping) spans.

    >>> iob2_tags([("A", 1, 3)], 4)
    ['O', 'B-A', 'I-A', 'O']
    """
    tags = ["O"] * length
    for typ, start, end in spans:
        tags[start:end] = ["B-" + typ] + ["I-" + typ] * (end - start - 1)
    return tags


def violations(tags: Sequence[str], table: Scheme) -> Iterator[SchemeViolation]:
    """Every place where well-spelled ``tags`` break the scheme, in order."""
    name = table.name.upper()
    for index, prefix, typ, begins in _walk(tags, table):
        if prefix not in table.prefixes:
            kind = "a BIOES tag" if prefix in "ES" else f"not an {name} tag"
            yield SchemeViolation(index, f"tag {tags[index]!r} is {kind} but the file is read as {name} "
                                         "(use --scheme bioes or auto)")
        elif begins and prefix in table.inside and not table.inside_may_begin:
            after = tags[index - 1] if index else "O"
            yield SchemeViolation(
                index, f"{tags[index]} follows {after}: in {name} an entity must start with B-{typ} "
                "(pass --repair to turn it into B-, or --scheme iob1 if the file is IOB1)",
                repairable=True,
            )


def first_violation(tags: Sequence[str], scheme: Scheme | str = IOB2) -> SchemeViolation | None:
    """The first place where well-spelled ``tags`` break ``scheme``, or None.

    >>> first_violation(["B-A", "I-B"]).message.split(":")[0]
    'I-B follows B-A'
    """
    return next(violations(tags, get_scheme(scheme)), None)


def is_valid_iob2(tags: Sequence[str]) -> bool:
    """True if every tag is well-formed IOB2 and every ``I-X`` continues an ``X`` entity.

    >>> is_valid_iob2(["B-A", "I-A", "O"]), is_valid_iob2(["O", "I-A"])
    (True, False)
    """
    return all(tag_problem(t, IOB2) is None for t in set(tags)) and first_violation(tags, IOB2) is None


def to_iob2(tags: Sequence[str], scheme: Scheme | str, repair: bool = False) -> tuple[list[str], int]:
    """Convert well-spelled ``tags`` from ``scheme`` to IOB2; return them and the repair count.

    An inside tag that starts an entity raises SchemeViolation unless ``repair`` (then it
    becomes ``B-`` and counts as a repair); in IOB1 it is the normal start and is not counted.

    >>> to_iob2(["I-A", "B-A", "O", "I-B"], "iob1")
    (['B-A', 'B-A', 'O', 'B-B'], 0)
    >>> to_iob2(["O", "I-A"], "iob2", repair=True)
    (['O', 'B-A'], 1)
    """
    table = get_scheme(scheme)
    repaired = 0
    for violation in violations(tags, table):
        if not (repair and violation.repairable):
            raise violation
        repaired += 1  # the walk already reads a stray inside tag as a start: it becomes B-
    out = ["O"] * len(tags)
    for index, _, typ, begins in _walk(tags, table):
        out[index] = ("B-" if begins else "I-") + typ
    return out, repaired


def repair_iob2(tags: Sequence[str]) -> list[str]:
    """IOB2 tags in which every ``I-X`` that cannot continue an ``X`` entity becomes ``B-X``.

    A model may output such a stray ``I-``; this is conlleval's reading of it, so an unchanged
    review file imports cleanly.

    >>> repair_iob2(["I-A", "I-A", "I-B"])
    ['B-A', 'I-A', 'B-B']
    """
    return to_iob2(tags, IOB2, repair=True)[0]


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Detect the scheme of a file's sentences (see the module docstring for the rule).

    >>> detect_scheme([["I-A", "O"]]), detect_scheme([["B-A", "O"]]), detect_scheme([["S-A"]])
    ('iob1', 'iob2', 'bioes')
    """
    i_starts = b_starts = False
    for tags in tag_sequences:
        prev = "O"
        for tag in tags:
            head = tag[0]
            if head == "E" or head == "S":
                return "bioes"
            # An I- or B- that is not a continuation of ``prev`` starts an entity.
            if head != "O" and (prev == "O" or prev[2:] != tag[2:]):
                if head == "I":
                    i_starts = True
                else:
                    b_starts = True
            prev = tag
    return "iob1" if i_starts and not b_starts else "iob2"
