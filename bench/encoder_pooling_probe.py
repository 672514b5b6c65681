"""Probe: a word read as the mean of its first and last subword instead of its first one.

Everything else is bench/encoder_ptf_probe.py (same environment variables, same cached CoNLL-2003
pre-training, which was made with first-subword words). The change is patched in at run time,
not built into xner: it did not raise dev F1 (bench/RESULTS.md).

    DOMAIN=science SEED=0 INIT=map THREADS=1 .venv/bin/python bench/encoder_pooling_probe.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import xner.models.encoder as encoder_module  # noqa: E402

_collate = encoder_module.collate


def collate_with_last(items: Any, cls_id: int, sep_id: int, pad_id: int, tags: Any = None) -> Any:
    """The usual batch plus ``gather_last``: each word's last subword (pieces are contiguous)."""
    batch = _collate(items, cls_id, sep_id, pad_id, tags)
    extra = torch.zeros_like(batch.gather)
    for b, enc in enumerate(items):
        extra[b, : len(enc.pieces)] = torch.tensor([len(p) - 1 for p in enc.pieces])
    batch.gather_last = batch.gather + extra
    return batch


def forward_first_last(self: Any, batch: Any) -> torch.Tensor:
    out = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
    flat = out.reshape(-1, out.shape[-1])
    words = 0.5 * (flat[batch.gather] + flat[batch.gather_last])
    if self.casing is not None:
        words = torch.cat([words, self.casing(batch.casing)], dim=-1)
    return self.proj(self.dropout(words))


if __name__ == "__main__":
    encoder_module.collate = collate_with_last
    encoder_module.EncoderNet.forward = forward_first_last
    import encoder_ptf_probe

    raise SystemExit(encoder_ptf_probe.main())
