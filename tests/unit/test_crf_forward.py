"""The probability-space forward algorithm (CRF.log_partition) against the log-space one."""

from __future__ import annotations

import pytest
import torch

from xner.models.crf import CRF


def _setup(seed: int, num_tags: int, lengths: list[int], dtype: torch.dtype,
           spread: float = 1.0) -> tuple[CRF, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    crf = CRF(num_tags).to(dtype)
    with torch.no_grad():
        crf.start.copy_(torch.randn(num_tags, generator=gen, dtype=dtype) * spread)
        crf.end.copy_(torch.randn(num_tags, generator=gen, dtype=dtype) * spread)
        crf.transitions.copy_(torch.randn(num_tags, num_tags, generator=gen, dtype=dtype) * spread)
    steps = max(lengths)
    emissions = (torch.randn(len(lengths), steps, num_tags, generator=gen, dtype=dtype) * 3 * spread)
    mask = torch.tensor([[t < n for t in range(steps)] for n in lengths])
    return crf, emissions.requires_grad_(), mask


@pytest.mark.parametrize("num_tags", [1, 5, 90])
@pytest.mark.parametrize("lengths", [[1], [7], [12, 3, 1, 12, 6]])
def test_equals_log_space_recursion_with_gradients(num_tags: int, lengths: list[int]) -> None:
    crf, emissions, mask = _setup(num_tags + len(lengths), num_tags, lengths, torch.float64)
    inputs = [emissions, crf.start, crf.end, crf.transitions]
    fast = crf.log_partition(emissions, mask)
    fast_grads = torch.autograd.grad(fast.sum(), inputs, allow_unused=True)
    slow = crf.log_partition_logspace(emissions, mask)
    slow_grads = torch.autograd.grad(slow.sum(), inputs, allow_unused=True)
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-9)
    for x, a, b in zip(inputs, fast_grads, slow_grads, strict=True):  # None: not used (one-token sentences)
        zero = torch.zeros_like(x)
        torch.testing.assert_close(zero if a is None else a, zero if b is None else b, rtol=0, atol=1e-9)


def test_fp32_training_scale_within_rounding() -> None:
    crf, emissions, mask = _setup(7, 90, [40, 25, 9, 40, 3, 17, 30, 1], torch.float32, spread=2.0)
    fast = crf.log_partition(emissions, mask)
    slow = crf.log_partition_logspace(emissions.double(), mask)
    torch.testing.assert_close(fast.double(), slow, rtol=1e-6, atol=1e-3)


def test_padding_steps_add_nothing() -> None:
    crf, emissions, mask = _setup(3, 6, [5, 2], torch.float64)
    padded = torch.cat([emissions, torch.randn(2, 4, 6, dtype=torch.float64) * 50], dim=1)
    pmask = torch.cat([mask, torch.zeros(2, 4, dtype=torch.bool)], dim=1)
    torch.testing.assert_close(crf.log_partition(padded, pmask), crf.log_partition(emissions, mask))


def test_underflowing_scores_fall_back_to_log_space() -> None:
    """Transition scores ~1000 apart underflow exp in probability space: the result must still
    be the log-space one, finite, with finite gradients."""
    crf, emissions, mask = _setup(5, 4, [6, 3], torch.float32)
    with torch.no_grad():
        crf.transitions.copy_(torch.tensor([[0.0, -1000.0, -1000.0, -1000.0]] * 4).T.contiguous()
                              + torch.tensor([0.0, 0.0, 0.0, 900.0]))
    assert not torch.isfinite(crf._scaled_forward(emissions, mask)).all()
    log_z = crf.log_partition(emissions, mask)
    assert torch.isfinite(log_z).all()
    torch.testing.assert_close(log_z, crf.log_partition_logspace(emissions, mask))
    (grad,) = torch.autograd.grad(log_z.sum(), [emissions])
    assert torch.isfinite(grad).all()
