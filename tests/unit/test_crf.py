"""The CRF against brute-force enumeration of every tag path on tiny cases."""

from __future__ import annotations

import itertools

import pytest
import torch

from xner.models.crf import CRF

L = 3


def _random_crf(seed: int, num_tags: int = L) -> CRF:
    gen = torch.Generator().manual_seed(seed)
    crf = CRF(num_tags).double()
    with torch.no_grad():
        crf.start.copy_(torch.randn(num_tags, generator=gen, dtype=torch.float64))
        crf.end.copy_(torch.randn(num_tags, generator=gen, dtype=torch.float64))
        crf.transitions.copy_(torch.randn(num_tags, num_tags, generator=gen, dtype=torch.float64))
    return crf


def _batch(seed: int, lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed + 100)
    steps = max(lengths)
    emissions = torch.randn(len(lengths), steps, L, generator=gen, dtype=torch.float64) * 2
    mask = torch.tensor([[t < n for t in range(steps)] for n in lengths])
    return emissions, mask


def _path_score(crf: CRF, em: torch.Tensor, path: tuple[int, ...]) -> float:
    """Score one path by the definition, token by token."""
    score = crf.start[path[0]] + em[0, path[0]]
    for t in range(1, len(path)):
        score = score + crf.transitions[path[t - 1], path[t]] + em[t, path[t]]
    return float((score + crf.end[path[-1]]).detach())


def _enumerate(crf: CRF, em: torch.Tensor, length: int) -> dict[tuple[int, ...], float]:
    return {p: _path_score(crf, em, p) for p in itertools.product(range(L), repeat=length)}


CASES = [[1], [2], [4], [4, 4], [4, 2, 1, 3], [3, 1]]


@pytest.mark.parametrize("lengths", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_partition_matches_enumeration(lengths: list[int], seed: int) -> None:
    crf = _random_crf(seed)
    emissions, mask = _batch(seed, lengths)
    log_z = crf.log_partition(emissions, mask)
    for b, n in enumerate(lengths):
        scores = torch.tensor(list(_enumerate(crf, emissions[b], n).values()), dtype=torch.float64)
        assert log_z[b].item() == pytest.approx(torch.logsumexp(scores, 0).item(), abs=1e-9)


@pytest.mark.parametrize("lengths", CASES)
@pytest.mark.parametrize("seed", [0, 3])
def test_viterbi_matches_enumeration(lengths: list[int], seed: int) -> None:
    crf = _random_crf(seed)
    emissions, mask = _batch(seed, lengths)
    best_scores, paths = crf.viterbi(emissions, mask)
    assert crf.decode(emissions, mask) == paths
    for b, n in enumerate(lengths):
        table = _enumerate(crf, emissions[b], n)
        best = max(table, key=table.__getitem__)
        assert tuple(paths[b]) == best
        assert len(paths[b]) == n
        assert best_scores[b].item() == pytest.approx(table[best], abs=1e-9)


@pytest.mark.parametrize("lengths", CASES)
def test_marginals_match_enumeration(lengths: list[int]) -> None:
    crf = _random_crf(7)
    emissions, mask = _batch(7, lengths)
    marg = crf.marginals(emissions, mask)
    assert marg.shape == emissions.shape
    for b, n in enumerate(lengths):
        table = _enumerate(crf, emissions[b], n)
        scores = torch.tensor(list(table.values()), dtype=torch.float64)
        probs = torch.softmax(scores, 0)
        expected = torch.zeros(n, L, dtype=torch.float64)
        for p, path in zip(probs, table):
            for t, tag in enumerate(path):
                expected[t, tag] += p
        assert torch.allclose(marg[b, :n], expected, atol=1e-9)
        assert torch.allclose(marg[b, :n].sum(1), torch.ones(n, dtype=torch.float64), atol=1e-9)
        assert torch.all(marg[b, n:] == 0)


def test_nll_is_minus_log_probability_of_the_path() -> None:
    crf = _random_crf(4)
    lengths = [4, 2, 3]
    emissions, mask = _batch(4, lengths)
    tags = torch.tensor([[0, 2, 1, 1], [2, 2, 0, 0], [1, 0, 2, 0]])
    nll = crf.nll(emissions, tags, mask)
    for b, n in enumerate(lengths):
        table = _enumerate(crf, emissions[b], n)
        log_z = torch.logsumexp(torch.tensor(list(table.values()), dtype=torch.float64), 0).item()
        gold = tuple(tags[b, :n].tolist())
        assert nll[b].item() == pytest.approx(log_z - table[gold], abs=1e-9)
        assert nll[b].item() > 0


def test_padding_does_not_change_results() -> None:
    crf = _random_crf(5)
    emissions, mask = _batch(5, [3])
    padded = torch.cat([emissions, torch.randn(1, 2, L, dtype=torch.float64) * 50], dim=1)
    pmask = torch.cat([mask, torch.zeros(1, 2, dtype=torch.bool)], dim=1)
    assert crf.log_partition(padded, pmask).item() == pytest.approx(crf.log_partition(emissions, mask).item())
    assert crf.decode(padded, pmask) == crf.decode(emissions, mask)
    assert torch.allclose(crf.marginals(padded, pmask)[:, :3], crf.marginals(emissions, mask))


def test_cost_augmented_nll_adds_cost_only_to_partition() -> None:
    crf = _random_crf(6)
    emissions, mask = _batch(6, [4, 3])
    tags = torch.tensor([[1, 0, 2, 2], [0, 0, 1, 0]])
    zero = torch.zeros_like(emissions)
    assert torch.allclose(crf.nll(emissions, tags, mask, cost=zero), crf.nll(emissions, tags, mask))
    cost = torch.full_like(emissions, 0.5).scatter(2, tags.unsqueeze(2), 0.0)
    # Every wrong path now competes harder, so the loss can only grow.
    assert torch.all(crf.nll(emissions, tags, mask, cost=cost) > crf.nll(emissions, tags, mask))


def test_gradients_flow_to_all_parameters() -> None:
    crf = _random_crf(8)
    emissions, mask = _batch(8, [4, 2])
    emissions.requires_grad_(True)
    tags = torch.tensor([[0, 1, 2, 0], [1, 1, 0, 0]])
    crf.nll(emissions, tags, mask).sum().backward()
    for param in (crf.start, crf.end, crf.transitions, emissions):
        assert param.grad is not None and torch.any(param.grad != 0)


def test_grow_keeps_old_scores_and_zeroes_new() -> None:
    crf = _random_crf(9)
    old = {k: v.clone() for k, v in crf.state_dict().items()}
    crf.grow(5)
    assert crf.num_tags == 5
    assert torch.equal(crf.transitions[:L, :L], old["transitions"])
    assert torch.equal(crf.start[:L], old["start"])
    assert torch.equal(crf.end[:L], old["end"])
    assert torch.all(crf.transitions[L:] == 0) and torch.all(crf.transitions[:, L:] == 0)
    assert torch.all(crf.start[L:] == 0) and torch.all(crf.end[L:] == 0)
    assert isinstance(crf.transitions, torch.nn.Parameter)
    crf.grow(5)  # no-op
    with pytest.raises(ValueError):
        crf.grow(2)
