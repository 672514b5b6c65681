"""How the encoder tagger is built: ``EncoderConfig``, in a module that imports neither torch nor
transformers, so a config can be read, validated and hashed without loading a backbone."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_ENCODER = "all-MiniLM-L6-v2"


class EncoderConfig(BaseModel):
    """How the encoder tagger is built. Frozen: it is hashed into a run's identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    encoder: str = Field(DEFAULT_ENCODER, description="local folder or Hugging Face name (cached)")
    # crf 74.73 vs softmax 73.50 test F1 on the same check (one seed: a hint, not proof).
    head: Literal["softmax", "crf"] = "crf"
    max_length: int = Field(256, ge=8, description="subwords per window, [CLS] and [SEP] included")
    window_overlap: int = Field(64, ge=0, description="subwords shared by neighbouring windows")
    # The encoder is uncased; dropping this cost 2.9 test F1 on the same check.
    casing_dim: int = Field(16, ge=0, description="casing embedding size; 0 = no casing feature")
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
        return self
