"""The Tagger protocol and the training settings shared by every backbone.

Everything downstream (training, transfer, selection, study) talks to a ``Tagger`` only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from xner.data.corpus import Sentence
from xner.labels.space import LabelSpace

# Inputs to predict/marginals: Sentence objects or plain token lists.
Tokens = Sequence[str]
TaggerInput = Sequence[Sentence] | Sequence[Tokens]
# Where and how strictly a fit runs, not what it computes: never part of a dump (or a hash).
RUNTIME_FIELDS = ("device", "deterministic")


def drop_neutral(data: dict[str, Any]) -> dict[str, Any]:
    """A TrainConfig dump less what cannot change its numbers, and settings added after run
    schema 1 at the value that means what configs meant before them (``accumulate`` 1, ``min_epochs``
    1, ``precision`` other than bf16/fp16), so every run id and cache key made before they existed
    still holds."""
    for key in RUNTIME_FIELDS:
        data.pop(key, None)
    for key in ("accumulate", "min_epochs"):
        if data.get(key) == 1:
            del data[key]
    if data.get("precision") not in ("bf16", "fp16"):
        data.pop("precision", None)
    return data


class TrainConfig(BaseModel):
    """How to fit a tagger. Frozen so it can be hashed into a run's identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: int = Field(30, ge=1)
    batch_size: int = Field(32, ge=1)
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    clip: float = Field(5.0, gt=0)
    patience: int = Field(5, ge=1)
    # Early stopping waits for this many epochs: patience counts only the epochs after them.
    min_epochs: int = Field(1, ge=1, description="epochs before patience starts counting (1: from the first)")
    seed: int = 0
    # Weight of the O class in the loss (the reference study down-weights O); 1.0 = unweighted.
    o_weight: float = Field(1.0, gt=0, le=1.0)
    # Probability that a word seen once in training is replaced by UNK during training.
    unk_replace: float = Field(0.3, ge=0, le=1)
    threads: int = Field(0, ge=0, description="torch threads; 0 = leave torch's default")
    max_seconds: float | None = Field(None, gt=0, description="stop after this many seconds")
    eval_every: int = Field(1, ge=1, description="evaluate on dev every N epochs")
    lr_schedule: Literal["constant", "linear"] = Field(
        "constant", description="constant lr, or linear warm-up then linear decay to 0 at the last epoch")
    warmup: float = Field(0.1, ge=0, lt=1, description="linear schedule: share of the steps spent warming up")
    # One optimiser step per ``accumulate`` batches: k batches of b sentences act as one of k*b.
    accumulate: int = Field(1, ge=1, description="batches whose gradients add up to one optimiser step")
    device: str | None = Field("auto", description="auto, cpu, cuda, cuda:N or mps; None: where the tagger is")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="forward passes: autocast to bf16/fp16, or fp32; auto: bf16 on a CUDA GPU that has it")
    deterministic: bool = Field(False, description="deterministic kernels only (torch.use_deterministic_algorithms)")

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Every setting that shapes the numbers (see ``drop_neutral``)."""
        data = handler(self)
        return drop_neutral(data) if isinstance(data, dict) else data


@dataclass
class EpochLog:
    epoch: int
    loss: float
    dev_f1: float | None
    seconds: float
    sentences_per_second: float

    def to_line(self) -> str:
        """One line of a fit's JSONL training log."""
        return json.dumps(vars(self), sort_keys=True)


@dataclass
class FitResult:
    best_epoch: int
    best_dev_f1: float
    epochs_run: int
    seconds: float
    history: list[EpochLog] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "best_epoch": self.best_epoch,
            "best_dev_f1": self.best_dev_f1,
            "epochs_run": self.epochs_run,
            "seconds": self.seconds,
            "history": [vars(h) for h in self.history],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FitResult:
        """The inverse of ``to_json`` (a NaN dev F1, from a fit with no dev set, stays NaN)."""
        best = data["best_dev_f1"]
        return cls(int(data["best_epoch"]), float("nan") if best is None else float(best), int(data["epochs_run"]),
                   float(data["seconds"]), [EpochLog(**entry) for entry in data["history"]])


# progress(epoch, total_epochs, loss, dev_f1); the CLI turns it into a rich bar.
ProgressFn = Callable[[int, int, float, float | None], None]


@runtime_checkable
class Tagger(Protocol):
    """A sequence tagger. ``labels`` is its output space, in id order."""

    labels: LabelSpace

    def predict(self, sentences: TaggerInput) -> list[list[str]]:
        """Best tag sequence (IOB2) for each sentence."""
        ...

    def marginals(self, sentences: TaggerInput) -> list[np.ndarray]:
        """Per-token label probabilities, one (len, len(labels)) array per sentence; rows sum to 1."""
        ...

    def adapt(self, sentences: Sequence[Sentence], labels: LabelSpace,
              origins: Mapping[int, int] | None = None) -> None:
        """Prepare for fine-tuning on new data: grow vocabularies with the words of ``sentences``
        and the output layer to ``labels`` (which must extend ``self.labels``); weights of shared
        words and labels are kept. A new label listed in ``origins`` (new id -> old id, see
        ``xner.labels.origins``) starts as a copy of its old label; the others start fresh."""
        ...

    def save(self, directory: Path) -> None:
        """The whole model folder, written atomically: ``xner.models.modeldir.save_model``."""
        ...

    def write_state(self, folder: Path) -> None:
        """Weights and meta.json (``modeldir.write_checkpoint``) plus any files of the backbone's
        own into the new, empty ``folder``; ``modeldir.save_model`` writes the rest."""
        ...


class TrainableTagger(Protocol):
    """What ``xner.training.trainer.fit`` needs from a backbone (BiLSTM-CRF or encoder).

    The trainer drives the tagger (``trainer.fit(tagger, train, dev, cfg)``); a tagger never
    imports the trainer.
    """

    labels: LabelSpace
    # Forward passes (loss and prediction) autocast to this resolved precision: fp32, bf16 or fp16.
    precision: str

    @property
    def module(self) -> Any:  # torch.nn.Module holding every trainable weight
        ...

    @property
    def device(self) -> Any:  # torch.device the weights are on; batches and outputs follow it
        ...

    def to(self, device: Any) -> Any:
        """Move the weights to ``device`` (a torch.device) and return the tagger."""
        ...

    def fitting(self, cfg: TrainConfig, train: Sequence[Sentence]) -> AbstractContextManager[None]:
        """Held for the whole of a fit on ``train``: the tagger takes the settings it needs while
        batching and sets up (and afterwards undoes) any training-only change to its network."""
        ...

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        """The optimiser's parameter groups (``torch.optim`` style: ``params`` plus options such
        as ``lr``), read inside ``fitting``; every trainable weight is in exactly one group."""
        ...

    def batches(self, sentences: Sequence[Sentence], batch_size: int, rng: np.random.Generator,
                train: bool) -> Any:
        """Iterable of ready-to-use batches (tensors); shuffled and UNK-replaced when ``train``."""
        ...

    def loss(self, batch: Any, o_weight: float) -> Any:
        """Scalar loss tensor for one batch (mean over sentences)."""
        ...

    def predict(self, sentences: TaggerInput) -> list[list[str]]: ...
