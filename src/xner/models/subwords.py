"""Words to subwords and back: first-subword alignment, windows over long sentences, batching.

An encoder sees at most ``max_length`` subwords (special tokens included). A longer sentence is
cut into overlapping windows of whole words; each word is read from the window where it has the
most context on both sides, so no word is lost and none sits at a window's ragged edge when it
can be helped. Words the tokenizer maps to nothing (control characters, zero-width spaces) are
given the unknown token, so every word owns at least one subword and gets a label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

# A single word rarely needs more; a 300-subword URL would otherwise eat a whole window.
MAX_WORD_PIECES = 32

# Casing classes of a word (0 is padding); the uncased encoder cannot see these.
CASING_CLASSES = 7
_LOWER, _UPPER, _TITLE, _MIXED, _DIGIT, _OTHER = 1, 2, 3, 4, 5, 6


def casing_class(word: str) -> int:
    """Coarse shape of ``word``: lower, UPPER, Title, mIxed, has a digit, or no letters."""
    if any(ch.isdigit() for ch in word):
        return _DIGIT
    letters = [ch for ch in word if ch.isalpha()]
    if not letters:
        return _OTHER
    if all(ch.islower() for ch in letters):
        return _LOWER
    if all(ch.isupper() for ch in letters):
        return _UPPER if len(letters) > 1 else _TITLE
    if letters[0].isupper() and all(ch.islower() or not ch.isupper() for ch in letters[1:]):
        return _TITLE
    return _MIXED


@dataclass(frozen=True)
class Encoded:
    """One sentence as subwords: ``pieces[i]`` are word i's ids (never empty), ``windows`` are
    (first word, one past last word) ranges and ``home[i]`` the window word i is read from."""

    pieces: tuple[tuple[int, ...], ...]
    windows: tuple[tuple[int, int], ...]
    home: tuple[int, ...]
    casing: tuple[int, ...]

    @property
    def length(self) -> int:
        """Subwords over all windows: what the encoder pays for this sentence."""
        return sum(sum(len(p) for p in self.pieces[a:b]) + 2 for a, b in self.windows)


def word_pieces(tokenizer: object, sentences: Sequence[Sequence[str]], unk_id: int) -> list[list[tuple[int, ...]]]:
    """Subword ids per word per sentence; empty words become ``(unk_id,)``; long ones are cut."""
    if not sentences:
        return []
    enc = tokenizer(  # type: ignore[operator]
        [list(s) for s in sentences], is_split_into_words=True, add_special_tokens=False
    )
    out: list[list[tuple[int, ...]]] = []
    for i, words in enumerate(sentences):
        grouped: list[list[int]] = [[] for _ in words]
        for token_id, word in zip(enc["input_ids"][i], enc.word_ids(i)):
            if word is not None:
                grouped[word].append(token_id)
        out.append([tuple(g[:MAX_WORD_PIECES]) if g else (unk_id,) for g in grouped])
    return out


def plan_windows(counts: Sequence[int], capacity: int, overlap: int) -> list[tuple[int, int]]:
    """Ranges of whole words, each at most ``capacity`` subwords, neighbours sharing about
    ``overlap`` subwords. Every word is in some window; each window starts past the last one."""
    if capacity < 1 or not 0 <= overlap < capacity:
        raise ValueError("need 0 <= overlap < capacity")
    windows: list[tuple[int, int]] = []
    start, n = 0, len(counts)
    while start < n:
        end, used = start, 0
        while end < n and used + counts[end] <= capacity:
            used += counts[end]
            end += 1
        end = max(end, start + 1)  # a word longer than the capacity gets a window to itself
        windows.append((start, end))
        if end >= n:
            break
        # Share up to ``overlap`` subwords, but leave room for the next word so windows advance.
        room = min(overlap, capacity - counts[end])
        nxt, shared = end, 0
        while nxt - 1 > start and shared + counts[nxt - 1] <= room:
            shared += counts[nxt - 1]
            nxt -= 1
        start = nxt
    return windows


def assign_home(counts: Sequence[int], windows: Sequence[tuple[int, int]]) -> list[int]:
    """For each word, the window where min(subwords before it, subwords after it) is largest."""
    best: list[tuple[int, int]] = [(-1, 0)] * len(counts)  # (context, window index)
    for w, (a, b) in enumerate(windows):
        left = 0
        total = sum(counts[a:b])
        for i in range(a, b):
            right = total - left - counts[i]
            context = min(left, right)
            if context > best[i][0]:
                best[i] = (context, w)
            left += counts[i]
    return [w for _, w in best]


def encode(tokenizer: object, sentences: Sequence[Sequence[str]], max_length: int, overlap: int,
           unk_id: int) -> list[Encoded]:
    """Subwords, windows and homes for each sentence (``max_length`` counts [CLS] and [SEP])."""
    capacity = max_length - 2
    out = []
    for words, pieces in zip(sentences, word_pieces(tokenizer, sentences, unk_id)):
        pieces = [p[:capacity] for p in pieces]
        counts = [len(p) for p in pieces]
        windows = plan_windows(counts, capacity, overlap) if counts else []
        home = assign_home(counts, windows)
        out.append(Encoded(tuple(pieces), tuple(windows), tuple(home), tuple(casing_class(w) for w in words)))
    return out


@dataclass
class Batch:
    """Tensors for one batch. ``gather[b, t]`` indexes the flattened (windows * subwords) encoder
    output at word t's first subword in its home window; ``mask`` marks real words."""

    input_ids: Tensor  # (W, S) long
    attention_mask: Tensor  # (W, S) long
    gather: Tensor  # (B, T) long
    mask: Tensor  # (B, T) bool, left-aligned
    casing: Tensor  # (B, T) long
    tags: Tensor | None  # (B, T) long, or None at prediction
    size: int  # sentences


def collate(items: Sequence[Encoded], cls_id: int, sep_id: int, pad_id: int,
            tags: Sequence[Sequence[int]] | None = None) -> Batch:
    """Pad to the batch's own longest window and sentence, never beyond (sentences non-empty)."""
    rows: list[list[int]] = []
    firsts: list[list[tuple[int, int]]] = []  # per sentence: (row, column) of each word's first subword
    for enc in items:
        base = len(rows)
        starts: list[list[int]] = []  # per window: column of each of its words' first subword
        for a, b in enc.windows:
            row, cols = [cls_id], []
            for piece in enc.pieces[a:b]:
                cols.append(len(row))
                row.extend(piece)
            row.append(sep_id)
            starts.append(cols)
            rows.append(row)
        firsts.append([(base + w, starts[w][i - enc.windows[w][0]]) for i, w in enumerate(enc.home)])
    width = max(len(r) for r in rows)
    longest = max(len(e.pieces) for e in items)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        input_ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
        attention[r, : len(row)] = 1
    shape = (len(items), longest)
    gather = torch.zeros(shape, dtype=torch.long)
    mask = torch.zeros(shape, dtype=torch.bool)
    casing = torch.zeros(shape, dtype=torch.long)
    tag_tensor = torch.zeros(shape, dtype=torch.long) if tags is not None else None
    for b, (enc, pos) in enumerate(zip(items, firsts)):
        n = len(enc.pieces)
        gather[b, :n] = torch.tensor([r * width + c for r, c in pos], dtype=torch.long)
        mask[b, :n] = True
        casing[b, :n] = torch.tensor(enc.casing, dtype=torch.long)
        if tag_tensor is not None and tags is not None:
            tag_tensor[b, :n] = torch.tensor(list(tags[b]), dtype=torch.long)
    return Batch(input_ids, attention, gather, mask, casing, tag_tensor, len(items))
