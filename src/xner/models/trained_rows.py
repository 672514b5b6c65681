"""The rows of an embedding table that one fit can reach, trained as a parameter of their own.

A fine-tuning fit on a few hundred sentences meets a few thousand of the word table's tens of
thousands of rows. Every other row gets a zero gradient at every step, and with no weight decay
Adam, AdamW and SGD leave such a row exactly as it is (its moments stay zero). Yet a dense
optimiser still reads and writes the whole table (weights, gradient and two moments) at every
step: about a tenth of a training step on one CPU core (bench/RESULTS.md, the profile). Training
only the reachable rows is the same optimisation on a much smaller table; they are written back
into the full table whenever the network leaves training mode and when the fit ends.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


class TrainedRows(nn.Module):
    """``rows`` (sorted, distinct, starting with the padding row 0) of ``table``, as a parameter.

    Called with ids of the full table, all of which must be among ``rows``."""

    rows: Tensor
    position: Tensor

    def __init__(self, table: nn.Embedding, rows: Tensor) -> None:
        super().__init__()
        if rows.numel() == 0 or int(rows[0]) != 0:
            raise ValueError("the rows must start with the padding row 0")
        device = table.weight.device
        rows = rows.to(device)
        self.register_buffer("rows", rows, persistent=False)
        position = torch.zeros(table.num_embeddings, dtype=torch.long, device=device)
        position[rows] = torch.arange(len(rows), device=device)
        self.register_buffer("position", position, persistent=False)
        self.weight = nn.Parameter(table.weight.detach()[rows])  # indexing by a tensor copies

    def forward(self, ids: Tensor) -> Tensor:
        return F.embedding(self.position[ids], self.weight, padding_idx=0)

    @torch.no_grad()
    def write_back(self, table: nn.Embedding) -> None:
        """Copy the trained rows into ``table``."""
        table.weight[self.rows] = self.weight
