"""The records of a review round, shared by the review file (``annotate``) and Label Studio
(``labelstudio``): kept apart so that neither of those modules imports the other's users."""

from __future__ import annotations

from dataclasses import dataclass

from xner.errors import DataError


@dataclass
class ReviewItem:
    """One sentence selected for review, with the model's labels and token entropies."""

    sid: str
    tokens: list[str]
    tags: list[str]
    entropy: list[float]
    uncertain: list[bool]
    score: float


@dataclass
class Reviewed:
    """One sentence as people returned it, and where it came from (for error messages)."""

    sid: str
    tokens: list[str]
    tags: list[str]
    path: str
    line: int | None = None  # of the ``# id`` line (CoNLL) or None (Label Studio)
    token_lines: list[int] | None = None
    context: str = ""  # message prefix, e.g. "task 3: "

    def fail(self, message: str, token: int | None = None) -> DataError:
        """A DataError at this sentence (at token ``token``'s line, when known)."""
        line = self.line
        if token is not None and self.token_lines and 0 <= token < len(self.token_lines):
            line = self.token_lines[token]
        return DataError(self.context + message, self.path, line)
