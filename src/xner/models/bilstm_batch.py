"""Turning sentences into padded BiLSTM-CRF batches with numpy, not per-token Python loops.

Each call encodes its sentences once: every distinct token string is looked up a single time
(word id, casing id, character ids); sentences then become rows of indexes into that table,
and a batch is a few numpy gathers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from xner.models.device import to_device
from xner.models.vocab import Vocabularies, casing


@dataclass
class Batch:
    """Padded tensors for sentences sorted by decreasing length."""

    words: Tensor  # (B, T) word ids
    casing: Tensor  # (B, T) casing ids
    token_index: Tensor  # (B, T) row of each token in ``chars`` (0 = padding token)
    chars: Tensor  # (U, C) character ids of distinct tokens
    char_mask: Tensor  # (U, C) bool
    mask: Tensor  # (B, T) bool
    lengths: Tensor  # (B,) int64 on CPU
    reverse: Tensor  # (B, T) index reversing each sentence within its length
    order: list[int]  # position of each row in the caller's list
    tags: Tensor | None = None  # (B, T) label ids, 0 at padding

    @property
    def size(self) -> int:
        return len(self.order)

    def to(self, device: torch.device) -> Batch:
        """This batch on ``device``, moved once (``lengths`` stay on the CPU, as packing wants)."""
        return to_device(self, device, keep_on_cpu=("lengths",))


def reverse_index(lengths: Tensor, steps: int) -> Tensor:
    """For each row, t -> length-1-t on real tokens and t -> t on padding."""
    pos = torch.arange(steps).unsqueeze(0)
    flipped = lengths.unsqueeze(1) - 1 - pos
    return torch.where(pos < lengths.unsqueeze(1), flipped, pos)


class Encoded:
    """Sentences as index arrays into a table of their distinct tokens (row 0 = padding)."""

    def __init__(self, token_lists: Sequence[Sequence[str]], vocab: Vocabularies, max_word_len: int,
                 tag_ids: Sequence[Sequence[int]] | None = None) -> None:
        table: dict[str, int] = {"": 0}
        flat = [table.setdefault(tok, len(table)) for tokens in token_lists for tok in tokens]
        distinct = list(table)
        self.word_ids = np.fromiter((vocab.word_id(t) for t in distinct), np.int64, len(distinct))
        self.word_ids[0] = 0
        self.casing = np.fromiter((casing(t) for t in distinct), np.int64, len(distinct))
        self.casing[0] = 0
        char_lists = [vocab.char_ids(t, max_word_len) for t in distinct]
        width = max(1, max(len(c) for c in char_lists))
        self.chars = np.zeros((len(distinct), width), dtype=np.int64)
        self.char_mask = np.zeros((len(distinct), width), dtype=bool)
        self.char_mask[:, 0] = True  # an empty token pools over one (zero) padding character
        self.char_lens = np.fromiter((max(1, len(c)) for c in char_lists), np.int64, len(char_lists))
        for row, ids in enumerate(char_lists):
            self.chars[row, : len(ids)] = ids
            self.char_mask[row, : len(ids)] = True
        self.lengths = np.fromiter((len(t) for t in token_lists), np.int64, len(token_lists))
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        # A trailing 0 lets padding positions gather the padding token.
        self.flat = np.asarray(flat + [0], dtype=np.int64)
        self.flat_tags = None
        if tag_ids is not None:
            self.flat_tags = np.asarray([i for ids in tag_ids for i in ids] + [0], dtype=np.int64)

    def batch(self, rows: Sequence[int], per_batch_chars: bool) -> Batch:
        """A Batch of sentence ``rows`` (already sorted by decreasing length).

        ``per_batch_chars``: ship only the distinct tokens of this batch (training, where the
        char CNN runs per batch); else ``token_index`` points into the whole table.
        """
        rows_arr = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths[rows_arr]
        steps = int(lengths.max())
        pos = np.arange(steps)
        real = pos[None, :] < lengths[:, None]
        where = np.where(real, self.offsets[rows_arr, None] + pos[None, :], len(self.flat) - 1)
        index = self.flat[where]
        if per_batch_chars:
            uniq, inverse = np.unique(index, return_inverse=True)
            width = int(self.char_lens[uniq].max())  # no CNN work on columns that are all padding
            chars, char_mask = self.chars[uniq, :width], self.char_mask[uniq, :width]
            token_index = inverse.reshape(index.shape)
        else:
            chars, char_mask, token_index = self.chars, self.char_mask, index
        lengths_t = torch.from_numpy(lengths)
        tags = None if self.flat_tags is None else torch.from_numpy(self.flat_tags[where])
        return Batch(
            words=torch.from_numpy(self.word_ids[index]),
            casing=torch.from_numpy(self.casing[index]),
            token_index=torch.from_numpy(np.ascontiguousarray(token_index)),
            chars=torch.from_numpy(chars),
            char_mask=torch.from_numpy(char_mask),
            mask=torch.from_numpy(real),
            lengths=lengths_t,
            reverse=reverse_index(lengths_t, steps),
            order=[int(r) for r in rows],
            tags=tags,
        )
