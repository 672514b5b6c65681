"""The BiLSTM-CRF network: batches (``bilstm_batch.Batch``) in, emission scores and loss out.

Kept apart from ``bilstm_crf.py`` (the Tagger: vocabularies, labels, save/load) so each
module stays small. Speed matters on a CPU, hence:
- the character CNN runs once per distinct token (of a training batch, or of a whole
  prediction call), not once per token;
- the BiLSTM is two one-way LSTMs over the padded batch, the backward one over each sentence
  reversed within its own length. That is exactly a packed BiLSTM (padding never reaches a
  real token) but lets torch precompute the input projections for all steps at once, which
  trains faster than packed sequences on CPU;
- for inference the same weights are copied into one packed bidirectional ``nn.LSTM``, which
  is the faster path there (measured: ~25% more tokens/s with 1 thread, batches of 512).

Under bf16/fp16 autocast the LSTMs run in fp32 all the same: oneDNN has no low-precision LSTM on
CPUs without bf16 instructions (it fails outright), and the recurrence is where rounding would
accumulate; the char CNN and the linear layers take the autocast.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from xner.models.bilstm_batch import Batch
from xner.models.crf import CRF, copy_label_rows
from xner.models.device import full_precision
from xner.models.trained_rows import TrainedRows
from xner.models.vocab import CASINGS


class BiLSTMConfig(BaseModel):
    """Shape of the BiLSTM-CRF. Defaults: a good conll2003 model that trains in minutes on 2 cores."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    word_dim: int = Field(100, ge=1)
    casing_dim: int = Field(8, ge=1)
    char_dim: int = Field(30, ge=1)
    char_filters: int = Field(30, ge=1, description="CNN filters per width (30 as Ma & Hovy 2016)")
    char_widths: tuple[int, ...] = Field((3,), min_length=1)
    max_word_len: int = Field(20, ge=1, description="characters kept per token")
    hidden: int = Field(100, ge=1, description="LSTM units per direction")
    layers: int = Field(1, ge=1)
    dropout: float = Field(0.5, ge=0, lt=1)
    infer_batch: int = Field(512, ge=1, description="sentences per inference batch")


def _uniform_(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Embedding init with variance 1/dim, so inputs start at a sensible scale."""
    bound = math.sqrt(3.0 / tensor.shape[1])
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


class BiLSTMNet(nn.Module):
    def __init__(self, cfg: BiLSTMConfig, num_words: int, num_chars: int, num_labels: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.words = nn.Embedding(num_words, cfg.word_dim, padding_idx=0)
        self.casing = nn.Embedding(len(CASINGS), cfg.casing_dim, padding_idx=0)
        self.chars = nn.Embedding(num_chars, cfg.char_dim, padding_idx=0)
        for emb in (self.words, self.casing, self.chars):
            _uniform_(emb.weight)
            with torch.no_grad():
                emb.weight[0].zero_()
        self.convs = nn.ModuleList(
            nn.Conv1d(cfg.char_dim, cfg.char_filters, w, padding=w // 2) for w in cfg.char_widths
        )
        self.drop = nn.Dropout(cfg.dropout)
        in_dim = cfg.word_dim + cfg.casing_dim + cfg.char_filters * len(cfg.char_widths)
        dims = [in_dim] + [2 * cfg.hidden] * (cfg.layers - 1)
        self.fw = nn.ModuleList(nn.LSTM(d, cfg.hidden, batch_first=True) for d in dims)
        self.bw = nn.ModuleList(nn.LSTM(d, cfg.hidden, batch_first=True) for d in dims)
        self.out = nn.Linear(2 * cfg.hidden, num_labels)
        self.crf = CRF(num_labels)
        self.word_rows: TrainedRows | None = None  # set by ``training_rows`` for a fit

    # ---------------------------------------------------------------- word rows
    @contextmanager
    def training_rows(self, rows: Tensor) -> Iterator[None]:
        """While inside, training batches read (and the optimiser moves) only ``rows`` of the word
        table: a parameter of their own (``TrainedRows``), written back into the table whenever the
        network leaves training mode and at the end. ``rows`` must hold every word id the training
        batches carry, the padding row 0 first."""
        self.word_rows = TrainedRows(self.words, rows)
        self.words.weight.requires_grad_(False)
        try:
            yield
        finally:
            self.word_rows.write_back(self.words)
            del self.word_rows  # unregisters the submodule ...
            self.word_rows = None  # ... and leaves the plain attribute
            self.words.weight.requires_grad_(True)

    def train(self, mode: bool = True) -> BiLSTMNet:
        if not mode and self.word_rows is not None:
            self.word_rows.write_back(self.words)  # evaluation reads the whole table
        return super().train(mode)

    def char_features(self, chars: Tensor, char_mask: Tensor) -> Tensor:
        """(U, C) char ids -> (U, filters * widths) max-pooled CNN features."""
        emb = self.chars(chars).transpose(1, 2)  # (U, D, C)
        feats = []
        for conv in self.convs:
            out = conv(emb)[:, :, : chars.shape[1]]
            # Pool over real characters only, so a token's features never depend on the batch.
            out = out.masked_fill(~char_mask.unsqueeze(1), float("-inf"))
            feats.append(out.max(dim=2).values)
        return torch.tanh(torch.cat(feats, dim=1))

    def inputs(self, batch: Batch, char_feats: Tensor | None = None) -> Tensor:
        """Concatenated word, casing and char features; ``char_feats`` may be precomputed
        for the whole token table (inference), else they are computed for this batch."""
        chars = self.char_features(batch.chars, batch.char_mask) if char_feats is None else char_feats
        return torch.cat(
            [self._word_vectors(batch.words), self.casing(batch.casing), chars[batch.token_index]], dim=2
        )

    def _word_vectors(self, ids: Tensor) -> Tensor:
        if self.training and self.word_rows is not None:
            return self.word_rows(ids)
        return self.words(ids)

    def emissions(self, batch: Batch, char_feats: Tensor | None = None,
                  lstm: nn.LSTM | None = None) -> Tensor:
        """(B, T, L) emission scores; the LSTM path depends on train/eval mode (same maths).

        In eval mode ``lstm`` may be a ``bidirectional_lstm()`` built once for many batches.
        """
        x = self.drop(self.inputs(batch, char_feats))
        with full_precision(x.device):  # see the module docstring
            if self.training:
                hidden = self._two_way(x.float(), batch.reverse)
            else:
                hidden = self._packed(x.float(), batch.lengths, lstm or self.bidirectional_lstm())
        return self.out(self.drop(hidden))

    def _two_way(self, x: Tensor, reverse: Tensor) -> Tensor:
        for i, (fw, bw) in enumerate(zip(self.fw, self.bw)):
            if i > 0:
                x = self.drop(x)
            forward, _ = fw(x)
            rev = reverse.unsqueeze(2)
            backward, _ = bw(x.gather(1, rev.expand(-1, -1, x.shape[2])))
            backward = backward.gather(1, rev.expand(-1, -1, backward.shape[2]))
            x = torch.cat([forward, backward], dim=2)
        return x

    def _packed(self, x: Tensor, lengths: Tensor, lstm: nn.LSTM) -> Tensor:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=True)
        out, _ = lstm(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]

    def bidirectional_lstm(self) -> nn.LSTM:
        """One packed nn.LSTM holding copies of the current one-way weights (inference only)."""
        cfg = self.cfg
        first = self.fw[0]
        lstm = nn.LSTM(first.input_size, cfg.hidden, num_layers=cfg.layers, bidirectional=True,
                       batch_first=True, device=first.weight_ih_l0.device)
        with torch.no_grad():
            for k, (fw, bw) in enumerate(zip(self.fw, self.bw)):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(lstm, f"{name}_l{k}").copy_(getattr(fw, f"{name}_l0"))
                    getattr(lstm, f"{name}_l{k}_reverse").copy_(getattr(bw, f"{name}_l0"))
        return lstm.eval()

    def loss(self, batch: Batch, o_weight: float) -> Tensor:
        """Mean CRF negative log-likelihood per sentence, cost-augmented when ``o_weight`` < 1.

        A CRF scores whole paths, so there is no per-class loss to weight. Instead we use a
        softmax-margin (cost-augmented) CRF, recall-oriented as in Mohit et al. (2012): inside
        the partition function, every wrong label on a gold *entity* token gets a bonus of
        -log(o_weight), while wrongly tagging a gold O token costs nothing extra. Missing an
        entity thus costs more than a false alarm, which is what down-weighting O aims at,
        and the loss stays a proper bound on the CRF's task loss. o_weight = 1 gives cost 0:
        the plain CRF likelihood.
        """
        assert batch.tags is not None, "training batches carry tags"
        emissions = self.emissions(batch).float()  # under autocast: the cost and the CRF in fp32
        cost = None
        if o_weight < 1.0:
            wrong = torch.ones_like(emissions).scatter(2, batch.tags.unsqueeze(2), 0.0)
            entity = ((batch.tags != 0) & batch.mask).unsqueeze(2).to(emissions.dtype)
            cost = -math.log(o_weight) * wrong * entity
        return self.crf.nll(emissions, batch.tags, batch.mask, cost).mean()

    # ---------------------------------------------------------------- growth
    def grow(self, num_words: int, num_chars: int, num_labels: int, generator: torch.Generator,
             origins: Mapping[int, int] | None = None, inside_conflicts: Sequence[tuple[int, int]] = ()) -> None:
        """Append rows for new words, chars and labels; every old row is kept bit-for-bit.
        New label rows are fresh, or copies of their old label where ``origins`` names one."""
        self.words = _grow_embedding(self.words, num_words, generator)
        self.chars = _grow_embedding(self.chars, num_chars, generator)
        old = self.out.out_features
        if num_labels > old:
            out = nn.Linear(self.out.in_features, num_labels)
            bound = 1.0 / math.sqrt(self.out.in_features)
            with torch.no_grad():
                out.weight.uniform_(-bound, bound, generator=generator)
                out.bias.zero_()
                out.weight[:old] = self.out.weight
                out.bias[:old] = self.out.bias
            copy_label_rows(out, origins)
            self.out = out
        self.crf.grow(num_labels, origins, inside_conflicts)


def _grow_embedding(emb: nn.Embedding, size: int, generator: torch.Generator) -> nn.Embedding:
    old = emb.num_embeddings
    if size <= old:
        return emb
    grown = nn.Embedding(size, emb.embedding_dim, padding_idx=0)
    _uniform_(grown.weight, generator)
    with torch.no_grad():
        grown.weight[:old] = emb.weight
    return grown
