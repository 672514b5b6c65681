"""A linear-chain CRF over (batch, time, labels) emission scores.

Every method is batched; a boolean ``mask`` (B, T) marks real tokens. Masks must be
left-aligned (a prefix of True per row, at least one True), which is what padded,
length-sorted batches give. The only Python loops run over time steps, never over sentences.

Whatever the precision of the network (bf16/fp16 autocast), the forward algorithm, Viterbi and
the marginals run in fp32 (or float64 when given it): emissions are cast up and autocast is left,
because sums of exponentials over long sentences lose too much in 8 bits of mantissa.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from xner.models.device import full_precision

F = TypeVar("F", bound=Callable[..., Any])


def _full(x: Tensor) -> Tensor:
    """``x`` in fp32 unless it already is fp32 or float64."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def fp32(method: F) -> F:
    """Run a CRF method outside autocast, its emissions (and cost) cast up to fp32."""
    @functools.wraps(method)
    def wrapper(self: CRF, emissions: Tensor, *args: Any, **kwargs: Any) -> Any:
        args = tuple(_full(a) if isinstance(a, Tensor) and a.is_floating_point() else a for a in args)
        kwargs = {k: _full(v) if isinstance(v, Tensor) and v.is_floating_point() else v for k, v in kwargs.items()}
        with full_precision(emissions.device):
            return method(self, _full(emissions), *args, **kwargs)
    return wrapper  # type: ignore[return-value]


class CRF(nn.Module):
    """Start, end and transition scores; ``transitions[i, j]`` scores tag i followed by tag j."""

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError("a CRF needs at least one tag")
        self.num_tags = num_tags
        # Zero start: the emissions carry the signal early in training; transitions learn fast.
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))

    # ----------------------------------------------------------------- training
    @fp32
    def nll(self, emissions: Tensor, tags: Tensor, mask: Tensor, cost: Tensor | None = None) -> Tensor:
        """Negative log-likelihood of ``tags`` per sentence, shape (B,).

        ``cost`` (B, T, L), if given, is added to the emissions inside the partition function
        only (softmax-margin training): paths that pay a cost must be beaten by a margin.
        The gold path must have zero cost, so its own score is unchanged.
        """
        augmented = emissions if cost is None else emissions + cost
        return self.log_partition(augmented, mask) - self.path_score(emissions, tags, mask)

    @fp32
    def path_score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Unnormalised score of the given tag paths, shape (B,)."""
        maskf = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        score = self.start[tags[:, 0]] + (emit * maskf).sum(1)
        trans = self.transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        score = score + (trans * maskf[:, 1:]).sum(1)
        last = mask.long().sum(1) - 1
        last_tags = tags.gather(1, last.unsqueeze(1)).squeeze(1)
        return score + self.end[last_tags]

    @fp32
    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z per sentence, shape (B,), by the forward algorithm.

        It runs in probability space, renormalised at every step (one small matrix product a
        step instead of a log-sum-exp over (B, L, L): 3x faster with its gradient at 90 tags).
        The result equals the log-space recursion to fp32 rounding; if the scores are so spread
        that a step underflows (transition scores ~87 apart in fp32), it falls back to it.
        """
        log_z = self._scaled_forward(emissions, mask)
        if bool(torch.isfinite(log_z).all()):
            return log_z
        return self.log_partition_logspace(emissions, mask)

    def _scaled_forward(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """The forward recursion in probability space: alpha is kept summing to 1 and the log of
        each step's normaliser is added up; every exponent is shifted by its maximum first."""
        shift = emissions.max(dim=2, keepdim=True).values  # (B, T, 1)
        probs = torch.exp(emissions - shift)
        trans_max = self.transitions.max()
        trans = torch.exp(self.transitions - trans_max).to(emissions.dtype)  # float64 emissions: float64 maths
        first = self.start + emissions[:, 0]
        first_max = first.max(dim=1, keepdim=True).values
        alpha = torch.exp(first - first_max)
        norms = []
        for t in range(1, emissions.shape[1]):
            nxt = (alpha @ trans) * probs[:, t]
            keep = mask[:, t : t + 1]
            norm = torch.where(keep, nxt.sum(1, keepdim=True), torch.ones_like(alpha[:, :1]))  # 1 at padding
            alpha = torch.where(keep, nxt / norm, alpha)
            norms.append(norm)
        end_max = self.end.max()
        log_z = first_max.squeeze(1) + torch.log((alpha * torch.exp(self.end - end_max)).sum(1)) + end_max
        if norms:
            steps = mask[:, 1:].to(emissions.dtype)
            log_z = log_z + torch.log(torch.cat(norms, dim=1)).sum(1) + ((shift[:, 1:, 0] + trans_max) * steps).sum(1)
        return log_z

    @fp32
    def log_partition_logspace(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z per sentence, shape (B,), by the forward algorithm in log space (the reference
        :meth:`log_partition` is checked against, and its fallback)."""
        alpha = self.start + emissions[:, 0]
        trans = self.transitions.unsqueeze(0)
        for t in range(1, emissions.shape[1]):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t : t + 1], nxt, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    # ---------------------------------------------------------------- inference
    @fp32
    def viterbi(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, list[list[int]]]:
        """Best path score (B,) and best paths, each trimmed to its sentence length.

        Each step maximises over the previous tag along the last, contiguous axis (transitions
        transposed once): reducing the middle axis of (B, L, L) took twice as long at 79 labels. In
        a batch sorted longest first (what the taggers give), a step touches only the sentences
        still running; padded steps keep their score and point every tag at itself."""
        batch, steps, num_tags = emissions.shape
        score = self.start + emissions[:, 0]
        into = self.transitions.t().contiguous().unsqueeze(0)  # into[0, j, i]: tag i followed by j
        identity = torch.arange(num_tags, device=emissions.device).expand(batch, num_tags)
        running = _running_rows(mask)
        pointers = []
        for t in range(1, steps):
            n = running[t]
            best, idx = (score[:n].unsqueeze(1) + into).max(dim=2)
            keep = mask[:n, t : t + 1]
            head = torch.where(keep, best + emissions[:n, t], score[:n])
            score = head if n == batch else torch.cat([head, score[n:]])
            step = torch.where(keep, idx, identity[:n])
            pointers.append(step if n == batch else torch.cat([step, identity[n:]]))
        final = score + self.end
        best_score, tag = final.max(dim=1)
        path = [tag]
        for ptr in reversed(pointers):
            tag = ptr.gather(1, tag.unsqueeze(1)).squeeze(1)
            path.append(tag)
        path.reverse()
        full = torch.stack(path, dim=1).tolist()  # (B, T)
        lengths = mask.long().sum(1).tolist()
        return best_score, [row[:n] for row, n in zip(full, lengths)]

    @fp32
    def best_path_log_prob(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log P(best path | sentence) per sentence, shape (B,): the Viterbi score less log Z
        (never above 0). MNLP divides it by the length; least confidence is 1 - its exp."""
        best, _ = self.viterbi(emissions, mask)
        return torch.clamp(best - self.log_partition(emissions, mask), max=0.0)

    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Viterbi best tag ids per sentence, trimmed to each sentence's length."""
        return self.viterbi(emissions, mask)[1]

    @fp32
    def marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """P(tag at t = j | sentence), shape (B, T, L); zero rows at padding."""
        batch, steps, _ = emissions.shape
        trans = self.transitions.unsqueeze(0)
        alphas = [self.start + emissions[:, 0]]
        for t in range(1, steps):
            nxt = torch.logsumexp(alphas[-1].unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t : t + 1], nxt, alphas[-1]))
        end = self.end.expand(batch, -1)
        betas = [end]
        for t in range(steps - 2, -1, -1):
            nxt = torch.logsumexp(trans + (emissions[:, t + 1] + betas[-1]).unsqueeze(1), dim=2)
            # Where t+1 is padding, t is the last real token (or padding itself): beta = end.
            betas.append(torch.where(mask[:, t + 1 : t + 2], nxt, end))
        betas.reverse()
        alpha = torch.stack(alphas, dim=1)
        beta = torch.stack(betas, dim=1)
        log_z = torch.logsumexp(alphas[-1] + self.end, dim=1)
        probs = torch.exp(alpha + beta - log_z.view(batch, 1, 1))
        return probs * mask.unsqueeze(2).to(probs.dtype)

    # ------------------------------------------------------------------ growth
    def grow(self, new_num_tags: int, origins: Mapping[int, int] | None = None,
             inside_conflicts: Sequence[tuple[int, int]] = ()) -> None:
        """Extend to ``new_num_tags`` tags; old scores are kept exactly, new ones start at zero.

        ``origins`` (new id -> old id) starts a new tag with its origin's start, end and
        transition scores instead; each ``(a, b)`` of ``inside_conflicts`` (entering an I- tag
        from another type, where the origins share one) gets the score of ``O -> origin(b)``.
        """
        old = self.num_tags
        if new_num_tags < old:
            raise ValueError(f"cannot shrink a CRF from {old} to {new_num_tags} tags")
        if new_num_tags == old:
            return
        source = torch.arange(new_num_tags, device=self.start.device)
        for new_id, old_id in (origins or {}).items():
            if not (old <= new_id < new_num_tags and 0 <= old_id < old):
                raise ValueError(f"origin {new_id} -> {old_id} is not a new tag -> old tag pair")
            source[new_id] = old_id
        with torch.no_grad():
            start = self.start.new_zeros(new_num_tags)
            end = self.end.new_zeros(new_num_tags)
            trans = self.transitions.new_zeros(new_num_tags, new_num_tags)
            start[:old] = self.start
            end[:old] = self.end
            trans[:old, :old] = self.transitions
            # Unmapped new tags point at themselves, whose scores are the zeros just made.
            start, end, trans = start[source], end[source], trans[source][:, source]
            for a, b in inside_conflicts:
                trans[a, b] = self.transitions[0, int(source[b])]
        self.start = nn.Parameter(start)
        self.end = nn.Parameter(end)
        self.transitions = nn.Parameter(trans)
        self.num_tags = new_num_tags


def _running_rows(mask: Tensor) -> list[int]:
    """For each step t, how many leading rows a loop over time must update: the sentences longer
    than t when the batch is sorted longest first, else every row (``mask`` decides per row)."""
    lengths = mask.long().sum(1)
    batch, steps = mask.shape
    if batch > 1 and bool((lengths[:-1] < lengths[1:]).any()):
        return [batch] * steps
    longer = (lengths.unsqueeze(0) > torch.arange(steps, device=mask.device).unsqueeze(1)).sum(1)
    return [max(1, n) for n in longer.tolist()]


def copy_label_rows(layer: nn.Linear, origins: Mapping[int, int] | None) -> None:
    """Overwrite each new label's output row (weight and bias) with its origin's, in place."""
    if not origins:
        return
    with torch.no_grad():
        for new_id, old_id in origins.items():
            layer.weight[new_id] = layer.weight[old_id]
            layer.bias[new_id] = layer.bias[old_id]
