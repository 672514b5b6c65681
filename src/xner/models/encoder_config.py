"""How the encoder tagger is built: ``EncoderConfig``, in a module that imports neither torch nor
transformers, so a config can be read, validated and hashed without loading a backbone."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
# Names that mean the packaged copy of the default encoder (no hub, no cache needed).
PACKAGED_NAMES = frozenset({DEFAULT_ENCODER, "sentence-transformers/all-MiniLM-L6-v2"})
# The casing embedding's size when the tokenizer lower-cases (the encoder cannot see case).
CASING_DIM_UNCASED = 16


class EncoderConfig(BaseModel):
    """How the encoder tagger is built. Frozen: it is hashed into a run's identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    encoder: str = Field(DEFAULT_ENCODER, description="local folder or Hugging Face hub name (downloaded once)")
    # crf 74.73 vs softmax 73.50 test F1 on the same check (one seed: a hint, not proof).
    head: Literal["softmax", "crf"] = "crf"
    max_length: int = Field(256, ge=8, description="subwords per window, [CLS] and [SEP] included")
    window_overlap: int = Field(64, ge=0, description="subwords shared by neighbouring windows")
    # For the uncased MiniLM, dropping this cost 2.9 test F1 on the same check. None (auto): 16 when
    # the tokenizer lower-cases, 0 when it keeps case (see ``resolved_casing_dim``).
    casing_dim: int | None = Field(None, ge=0, description="casing embedding size; 0 = none; None = auto")
    dropout: float = Field(0.1, ge=0, lt=1)
    # x20 beat x1 by 9.8 test F1 on a 600-sentence conll2003 check (bench/encoder_bench.py --ablation,
    # last in commit 21a0417).
    head_lr_multiplier: float = Field(
        20.0, gt=0, description="head (linear, casing, CRF) learning rate / TrainConfig.lr (Adam)")
    predict_batch_size: int = Field(32, ge=1)

    @model_validator(mode="after")
    def _overlap_fits(self) -> EncoderConfig:
        if self.window_overlap >= self.max_length - 2:
            raise ValueError("window_overlap must be smaller than max_length - 2")
        if self.casing_dim is None and self.encoder in PACKAGED_NAMES:  # known uncased: same run ids as before
            object.__setattr__(self, "casing_dim", CASING_DIM_UNCASED)
        return self

    def resolved_casing_dim(self, lower_cases: bool) -> int:
        """The casing embedding size: the explicit value, else 16 for a lower-casing tokenizer, else 0."""
        if self.casing_dim is not None:
            return self.casing_dim
        return CASING_DIM_UNCASED if lower_cases else 0
