"""The CRF's Viterbi (transposed transitions, only the running sentences per step) against a
plain full-batch recursion, including ties and batches not sorted by length."""

from __future__ import annotations

import pytest
import torch

from xner.models.crf import CRF, _running_rows


def _plain_viterbi(crf: CRF, emissions: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, list[list[int]]]:
    """Every row at every step, maximising over the middle axis: the textbook recursion."""
    batch, steps, tags = emissions.shape
    score = crf.start + emissions[:, 0]
    identity = torch.arange(tags).expand(batch, tags)
    pointers = []
    for t in range(1, steps):
        best, idx = (score.unsqueeze(2) + crf.transitions.unsqueeze(0)).max(dim=1)
        keep = mask[:, t : t + 1]
        score = torch.where(keep, best + emissions[:, t], score)
        pointers.append(torch.where(keep, idx, identity))
    best_score, tag = (score + crf.end).max(dim=1)
    path = [tag]
    for ptr in reversed(pointers):
        tag = ptr.gather(1, tag.unsqueeze(1)).squeeze(1)
        path.append(tag)
    rows = torch.stack(path[::-1], dim=1).tolist()
    return best_score, [row[:n] for row, n in zip(rows, mask.sum(1).tolist())]


def _case(seed: int, sort: bool, ties: bool) -> tuple[CRF, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    batch, steps, tags = (int(torch.randint(1, high, (1,), generator=gen)) for high in (12, 15, 8))
    lengths = torch.randint(1, steps + 1, (batch,), generator=gen)
    if sort:
        lengths = lengths.sort(descending=True).values
    mask = torch.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)
    draw = (lambda *shape: torch.randint(0, 2, shape, generator=gen).float()) if ties else \
        (lambda *shape: torch.randn(*shape, generator=gen))
    crf = CRF(tags)
    with torch.no_grad():
        crf.start.copy_(draw(tags))
        crf.end.copy_(draw(tags))
        crf.transitions.copy_(draw(tags, tags))
    return crf, draw(batch, steps, tags), mask


@pytest.mark.parametrize("sort", [True, False])
@pytest.mark.parametrize("ties", [True, False])
def test_same_scores_and_paths_as_the_plain_recursion(sort: bool, ties: bool) -> None:
    for seed in range(40):
        crf, emissions, mask = _case(seed, sort, ties)
        with torch.no_grad():
            score, paths = crf.viterbi(emissions, mask)
            plain_score, plain_paths = _plain_viterbi(crf, emissions, mask)
        assert torch.equal(score, plain_score), seed
        assert paths == plain_paths, seed


def test_running_rows_counts_the_sentences_still_going() -> None:
    lengths = torch.tensor([5, 3, 3, 1])
    mask = torch.arange(5).unsqueeze(0) < lengths.unsqueeze(1)
    assert _running_rows(mask) == [4, 3, 3, 1, 1]
    unsorted = mask[[1, 0, 2, 3]]  # a longer sentence after a shorter one: every row, every step
    assert _running_rows(unsorted) == [4] * 5
