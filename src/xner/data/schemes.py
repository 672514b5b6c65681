"""Tag schemes: check tag spelling, detect IOB1/IOB2/BIOES, convert to IOB2, repair.

IOB2 is the internal scheme: every entity starts with ``B-TYPE`` and continues with ``I-TYPE``.

Auto-detection works on a whole file (one sentence is too little evidence):

* **BIOES** if any tag starts with ``E-`` or ``S-`` (no other scheme uses them).
* **IOB1** if some ``I-X`` starts an entity (it follows ``O``, the sentence start or another
  type) *and* no ``B-X`` does. IOB1 uses ``B-`` only to split two adjacent entities of the same
  type, so a ``B-X`` after ``O`` never occurs in IOB1, while an IOB2 file with any entity has
  one. A file that has both kinds of start is therefore IOB2 with mistakes, and those mistakes
  are reported (or repaired on request) rather than silently read as IOB1.
* **IOB2** otherwise (including a file with no entities at all).

For a valid file with at least one entity the rule is exact: IOB1 always starts its first
entity with ``I-``, IOB2 always with ``B-``, and BIOES marks every entity with ``E-`` or ``S-``.

BIOES is read leniently: ``S-`` becomes ``B-`` and ``E-`` becomes ``I-``; only the
continuation rule (``I-``/``E-`` must follow the same type) is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from xner.errors import DataError

SCHEMES: tuple[str, ...] = ("auto", "iob1", "iob2", "bioes")

_TAG = re.compile(r"(?:O|[BIES]-\S+)\Z")


class SchemeViolation(ValueError):
    """A tag sequence breaks its scheme at token ``index`` (the caller adds file and line)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def check_scheme_name(scheme: str) -> str:
    """Return the lower-cased scheme name, or raise DataError for an unknown one."""
    name = scheme.lower()
    if name not in SCHEMES:
        raise DataError(f"unknown tag scheme {scheme!r} (choose one of: {', '.join(SCHEMES)})")
    return name


def tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a well-formed tag, or None if it is one."""
    if _TAG.match(tag):
        return None
    if len(tag) == 2 and tag[1] == "-" and tag[0] in "BIES":
        return f"tag {tag!r} has no entity type after the prefix"
    return (
        f"malformed tag {tag!r}: expected O or B-/I-/E-/S- followed by a type "
        "(prefixes are upper-case)"
    )


def _starts_entity(tag: str, prev: str) -> bool:
    """True when ``tag`` (any prefix) is not a continuation of ``prev``."""
    return prev == "O" or prev[2:] != tag[2:]


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Detect the scheme of a file's sentences (see the module docstring for the rule)."""
    i_starts = False
    b_starts = False
    for tags in tag_sequences:
        prev = "O"
        for tag in tags:
            head = tag[0]
            if head == "E" or head == "S":
                return "bioes"
            if head == "I" and _starts_entity(tag, prev):
                i_starts = True
            elif head == "B" and _starts_entity(tag, prev):
                b_starts = True
            prev = tag
    return "iob1" if i_starts and not b_starts else "iob2"


def to_iob2(tags: Sequence[str], scheme: str, repair: bool = False) -> tuple[list[str], int]:
    """Convert well-formed ``tags`` from ``scheme`` (iob1, iob2 or bioes) to IOB2.

    Returns the new tags and how many were repaired. An ``I-``/``E-`` that does not continue an
    entity of its type raises SchemeViolation unless ``repair`` (then it becomes ``B-``); in
    IOB1 such an ``I-`` is the normal way to start an entity and is converted without counting.
    """
    out: list[str] = []
    repaired = 0
    prev = "O"
    for index, tag in enumerate(tags):
        head = tag[0]
        if head in "ES" and scheme != "bioes":
            raise SchemeViolation(
                index, f"tag {tag!r} is a BIOES tag but the file is read as {scheme.upper()} "
                "(use --scheme bioes or auto)",
            )
        if head == "S":
            new = "B-" + tag[2:]
        elif head == "I" or head == "E":
            new = "I-" + tag[2:]
            if _starts_entity(tag, prev):
                if scheme == "iob1":
                    new = "B-" + tag[2:]
                elif repair:
                    new = "B-" + tag[2:]
                    repaired += 1
                else:
                    after = "O" if prev == "O" else prev
                    raise SchemeViolation(
                        index, f"{tag} follows {after}: in {scheme.upper()} an entity must start "
                        f"with B-{tag[2:]} (pass --repair to turn it into B-, or --scheme iob1 "
                        "if the file is IOB1)",
                    )
        else:
            new = tag
        out.append(new)
        prev = new
    return out, repaired


def repair_iob2(tags: Sequence[str]) -> list[str]:
    """Turn every ``I-X`` that does not continue an ``X`` entity into ``B-X`` (IOB2 in, out)."""
    return to_iob2(tags, "iob2", repair=True)[0]


def is_valid_iob2(tags: Sequence[str]) -> bool:
    """True if every tag is well formed IOB2 and every ``I-X`` continues an ``X`` entity."""
    prev = "O"
    for tag in tags:
        if tag_problem(tag) is not None or tag[0] in "ES":
            return False
        if tag[0] == "I" and _starts_entity(tag, prev):
            return False
        prev = tag
    return True


def entity_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of a valid IOB2 sequence as ``(type, start, end)`` with ``end`` exclusive."""
    spans: list[tuple[str, int, int]] = []
    start = -1
    kind = ""
    for index, tag in enumerate(tags):
        if tag[0] == "I" and start >= 0 and tag[2:] == kind:
            continue
        if start >= 0:
            spans.append((kind, start, index))
            start = -1
        if tag != "O":
            start, kind = index, tag[2:]
    if start >= 0:
        spans.append((kind, start, len(tags)))
    return spans
