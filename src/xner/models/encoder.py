"""A token-classification tagger over a pre-trained Transformer encoder (default: all-MiniLM-L6-v2).

Each word is read at its first subword (see ``subwords``), joined with a small casing embedding
when the tokenizer lower-cases its input (as the default encoder's does), and scored by a linear
layer; a softmax or a linear-chain CRF turns the scores into tags. A hub encoder is downloaded
once into the Hugging Face cache (``hub``); weights load from local files only, and a saved model
carries its own tokenizer and encoder config, so it never needs the hub.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError
from torch import Tensor, nn

from xner import __version__
from xner.data.corpus import Sentence
from xner.errors import ConfigError, DataError, ModelError
from xner.labels.normalise import LabelMap
from xner.labels.origins import inside_conflicts
from xner.labels.space import LabelSpace
from xner.models.base import TaggerInput, TrainConfig
from xner.models.crf import copy_label_rows
from xner.models.device import autocast, budget_chunks, module_device, to_device
from xner.models.encoder_config import EncoderConfig
from xner.models.encoder_files import (  # re-exported: callers import them from here
    DEFAULT_ENCODER,
    ENCODER_SUBDIR,
    default_encoder_path,
    load_encoder,
    load_tokenizer,
    resolve_encoder,
    save_encoder_files,
    with_casing,
)
from xner.models.encoder_net import EncoderNet, head_learning_rate
from xner.models.modeldir import load_checkpoint, load_state, save_model, write_checkpoint
from xner.models.registry import train_defaults
from xner.models.subwords import Batch, Encoded, collate, encode

# Padded subwords per prediction batch (and at most ``predict_batch_size`` sentences): 32 windows
# of 128, so a batch of long sentences takes no more memory than one of short ones.
PREDICT_TOKENS = 32 * 128

__all__ = ["DEFAULT_ENCODER", "ENCODER_SUBDIR", "EncoderConfig", "EncoderNet", "EncoderTagger",
           "default_encoder_path", "head_learning_rate", "load_encoder", "load_tokenizer",
           "recommended_train_config", "resolve_encoder"]


def recommended_train_config(**overrides: Any) -> TrainConfig:
    """Fine-tuning settings that suit a pre-trained encoder (TrainConfig's defaults suit the BiLSTM):
    the registry's encoder defaults, then ``overrides``."""
    return TrainConfig(**{**train_defaults("encoder", "target"), **overrides})


def _tokens(item: Sentence | Sequence[str]) -> list[str]:
    return list(item.tokens) if isinstance(item, Sentence) else list(item)


class EncoderTagger:
    """Tagger + TrainableTagger over a Transformer encoder."""

    backbone = "encoder"

    def __init__(self, net: EncoderNet, tokenizer: Any, labels: LabelSpace, config: EncoderConfig,
                 label_mode: str | None = None, seed: int = 0) -> None:
        self.net = net
        self.seed = seed  # seeds fresh head rows in ``adapt`` too, so runs repeat exactly
        self.tokenizer = tokenizer
        self.labels = labels
        self.config = config
        self.label_mode = label_mode
        self.label_map: LabelMap | None = None  # the map of normalised labels, saved with the model
        self._fast: nn.Module | None = None  # the int8 copy used for prediction after quantize()
        self.precision = "fp32"  # forward passes autocast to this (the trainer sets it)
        self.predict_tokens = PREDICT_TOKENS
        limits = [config.max_length, int(getattr(net.encoder.config, "max_position_embeddings", 512))]
        model_max = getattr(tokenizer, "model_max_length", None)
        if isinstance(model_max, int) and model_max < 100_000:
            limits.append(model_max)
        self.max_length = min(limits)
        self.overlap = min(config.window_overlap, self.max_length - 3)
        self._cls = _first_id(tokenizer, "cls_token_id", "bos_token_id")
        self._sep = _first_id(tokenizer, "sep_token_id", "eos_token_id")
        self._pad = _first_id(tokenizer, "pad_token_id", default=0)
        self._unk = _first_id(tokenizer, "unk_token_id", default=self._pad)

    # ----------------------------------------------------------------- building
    @classmethod
    def create(cls, train: Sequence[Sentence], labels: LabelSpace,
               config: EncoderConfig | dict[str, Any] | None = None, seed: int = 0) -> EncoderTagger:
        """A tagger with the pre-trained encoder and a fresh head for ``labels`` (``train`` is
        not needed: the subword vocabulary is the encoder's own)."""
        cfg = _as_config(config)
        source = resolve_encoder(cfg.encoder)
        tokenizer = load_tokenizer(source)
        encoder = load_encoder(source)
        cfg = with_casing(cfg, tokenizer)  # auto casing follows the tokenizer; meta.json keeps the int
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            net = EncoderNet(encoder, len(labels), cfg)
        net.eval()
        return cls(net, tokenizer, labels.copy(), cfg, seed=seed)

    @property
    def module(self) -> nn.Module:
        return self.net

    @property
    def device(self) -> torch.device:
        return module_device(self.net)

    def to(self, device: torch.device | str) -> EncoderTagger:
        """Move the weights to ``device``; batches and outputs follow them (a ``quantize`` copy
        stays on the CPU, the only device int8 dynamic quantization runs on)."""
        self.net.to(torch.device(device))
        return self

    # ----------------------------------------------------------------- training
    def encode(self, sentences: Sequence[Sequence[str]]) -> list[Encoded]:
        return encode(self.tokenizer, sentences, self.max_length, self.overlap, self._unk)

    def batches(self, sentences: Sequence[Sentence], batch_size: int, rng: np.random.Generator,
                train: bool) -> Iterator[Batch]:
        """Batches of similar length (little padding); order and ties shuffled when ``train``."""
        kept = [s for s in sentences if len(s)]
        encoded = self.encode([s.tokens for s in kept])
        tags = [self._tag_ids(s) for s in kept]
        lengths = np.array([e.length for e in encoded], dtype=float)
        if train:
            lengths *= rng.uniform(0.9, 1.1, size=len(lengths))
        order = np.argsort(lengths, kind="stable")
        chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if train:
            rng.shuffle(chunks)
        device = self.device
        for chunk in chunks:
            yield to_device(collate([encoded[i] for i in chunk], self._cls, self._sep, self._pad,
                                    [tags[i] for i in chunk]), device)

    def _tag_ids(self, sentence: Sentence) -> list[int]:
        try:
            return self.labels.encode(sentence.tags)
        except KeyError as err:
            raise DataError(f"tag {err.args[0]!r} is not among the model's labels", sentence.file or None,
                            sentence.line or None) from err

    def loss(self, batch: Batch, o_weight: float) -> Tensor:
        """Mean over sentences of the summed token loss (softmax, O tokens weighted ``o_weight``)
        or the CRF negative log-likelihood (softmax-margin when ``o_weight`` < 1, as the BiLSTM-CRF:
        wrong labels on gold entity tokens get a -log(o_weight) bonus inside the partition)."""
        emissions = self.net(batch).float()  # under autocast: the loss (and the CRF) in fp32
        assert batch.tags is not None
        if self.net.crf is not None:
            cost = None
            if o_weight < 1.0:
                entity = ((batch.tags != 0) & batch.mask).unsqueeze(2).to(emissions.dtype)
                wrong = torch.ones_like(emissions).scatter(2, batch.tags.unsqueeze(2), 0.0)
                cost = -math.log(o_weight) * wrong * entity
            return self.net.crf.nll(emissions, batch.tags, batch.mask, cost).mean()
        nll = -torch.log_softmax(emissions, dim=-1).gather(2, batch.tags.unsqueeze(2)).squeeze(2)
        weight = torch.where(batch.tags == 0, o_weight, 1.0) * batch.mask
        return (nll * weight).sum() / batch.size

    @contextmanager
    def fitting(self, cfg: TrainConfig, train: Sequence[Sentence] = ()) -> Iterator[None]:
        """Held by the trainer for a fit (use ``recommended_train_config``): the head learns at
        ``head_lr_multiplier`` times the rate while inside (see ``head_learning_rate``).
        ``cfg.unk_replace`` does not apply: the subword vocabulary is the encoder's own."""
        if cfg.lr > 5e-4:  # TrainConfig's default (2e-3) suits the BiLSTM and wrecks an encoder
            warnings.warn(f"lr {cfg.lr:g} is far above what fine-tuning an encoder tolerates; "
                          "see xner.models.encoder.recommended_train_config (lr 5e-5)", stacklevel=4)
        self._fast = None
        with head_learning_rate(self.net, self.config.head_lr_multiplier):
            yield
        self.net.eval()

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        """One group at the trainer's rate. Inside ``fitting`` the head's weights are reparametrised
        (weight = multiplier x raw), so Adam moves them ``head_lr_multiplier`` times as fast; a
        group with its own lr would not be the same optimiser: gradient clipping and weight decay
        see the scaled weights, and the published encoder numbers come from this one."""
        return [{"params": [p for p in self.net.parameters() if p.requires_grad]}]

    def adapt(self, sentences: Sequence[Sentence], labels: LabelSpace,
              origins: Mapping[int, int] | None = None) -> None:
        """Grow the output layer (and CRF) to ``labels``; rows of shared labels are kept, rows of
        new labels in ``origins`` copied from their old label, the rest fresh."""
        old = len(self.labels)
        if list(labels.tags[:old]) != list(self.labels.tags):
            raise ModelError("the new label space must extend the model's labels in the same order")
        new = len(labels)
        if new > old:
            proj = self.net.proj
            with torch.random.fork_rng():  # fresh rows from the tagger's seed, global RNG untouched
                torch.manual_seed(self.seed * 7919 + new)
                grown = nn.Linear(proj.in_features, new)
            grown.to(proj.weight.device)
            with torch.no_grad():
                grown.weight[:old] = proj.weight
                grown.bias[:old] = proj.bias
            copy_label_rows(grown, origins)
            self.net.proj = grown
            if self.net.crf is not None:
                self.net.crf.grow(new, origins, inside_conflicts(labels, origins))
        self.labels = labels.copy()
        self._fast = None

    # ---------------------------------------------------------------- inference
    def _predictor(self) -> Any:
        return self._fast if self._fast is not None else self.net

    def _emission_batches(self, tokens: list[list[str]]) -> Iterator[tuple[list[int], Tensor, Batch]]:
        """(sentence indices, emissions, batch) over the non-empty sentences, shortest first, in
        batches of at most ``predict_batch_size`` sentences and ``predict_tokens`` subwords (padded),
        on the predictor's device and in the tagger's precision."""
        index = [i for i, t in enumerate(tokens) if t]
        encoded = self.encode([tokens[i] for i in index])
        order = sorted(range(len(index)), key=lambda k: encoded[k].length)
        net = self._predictor()
        net.eval()
        device = module_device(net)
        lengths = [e.length for e in encoded]
        with torch.inference_mode():
            for chunk in budget_chunks(order, lengths, self.config.predict_batch_size, self.predict_tokens):
                batch = to_device(collate([encoded[k] for k in chunk], self._cls, self._sep, self._pad), device)
                with autocast(device, self.precision):  # not held across the yield: the caller's code is its own
                    emissions = net(batch)
                yield [index[k] for k in chunk], emissions, batch

    def predict(self, sentences: TaggerInput) -> list[list[str]]:
        tokens = [_tokens(s) for s in sentences]
        out: list[list[str]] = [[] for _ in tokens]
        crf = self._predictor().crf
        for ids, emissions, batch in self._emission_batches(tokens):
            if crf is not None:
                paths = crf.decode(emissions, batch.mask)
            else:
                best = emissions.argmax(-1).tolist()
                paths = [row[: len(tokens[i])] for row, i in zip(best, ids)]
            for i, path in zip(ids, paths):
                out[i] = self.labels.decode(path)
        return out

    def marginals(self, sentences: TaggerInput) -> list[np.ndarray]:
        tokens = [_tokens(s) for s in sentences]
        out = [np.zeros((len(t), len(self.labels)), dtype=np.float32) for t in tokens]
        crf = self._predictor().crf
        for ids, emissions, batch in self._emission_batches(tokens):
            if crf is not None:  # float64: float32 forward-backward drifts ~1e-4 on long sentences
                probs = crf.marginals(emissions.double(), batch.mask)
            else:
                probs = emissions.double().softmax(-1)
            for row, i in zip(probs.float().cpu().numpy(), ids):
                out[i] = row[: len(tokens[i])]
        return out

    def best_path_log_probs(self, sentences: TaggerInput) -> list[float]:
        """log P(best path) per sentence: the CRF's Viterbi score - log Z, or with the softmax
        head the sum of each token's best log-probability; 0.0 for an empty sentence."""
        tokens = [_tokens(s) for s in sentences]
        out = [0.0 for _ in tokens]
        crf = self._predictor().crf
        for ids, emissions, batch in self._emission_batches(tokens):
            if crf is not None:
                logp = crf.best_path_log_prob(emissions.double(), batch.mask).tolist()
            else:
                best = emissions.double().log_softmax(-1).max(-1).values
                logp = [float(row[: len(tokens[i])].sum()) for row, i in zip(best, ids)]
            for i, value in zip(ids, logp):
                out[i] = float(value)
        return out

    def quantize(self) -> EncoderTagger:
        """Predict with a copy whose encoder Linear layers are int8 (dynamic, per-channel weights).
        The small head stays fp32. On the 600-sentence conll2003 check this cost 1.7 (softmax) and
        2.7 (CRF) test F1 points; per-tensor int8 on every Linear cost 6.3 and 4.6. Training or
        adapting drops the copy; ``save`` always writes the fp32 weights."""
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        fast = copy.deepcopy(self.net).to("cpu").eval()
        with warnings.catch_warnings():  # torch marks torch.ao.quantization as deprecated
            warnings.simplefilter("ignore")
            fast.encoder = quantize_dynamic(fast.encoder, {nn.Linear: per_channel_dynamic_qconfig},
                                            dtype=torch.qint8)
        self._fast = fast
        return self

    # --------------------------------------------------------------- save/load
    def save(self, directory: Path) -> None:
        """The whole model folder (see ``xner.models.modeldir``), written atomically."""
        save_model(directory, self)

    def write_state(self, folder: Path) -> None:
        """safetensors weights + meta.json, plus tokenizer and encoder config in ``encoder/``."""
        tensors = {k: v.detach().contiguous() for k, v in self.net.state_dict().items()}
        meta = {"xner_version": __version__, "backbone": self.backbone, "config": self.config.model_dump(mode="json"),
                "labels": self.labels.to_json(), "label_mode": self.label_mode, "seed": self.seed}
        write_checkpoint(folder, tensors, meta)
        save_encoder_files(folder, self.tokenizer, self.net.encoder)

    @classmethod
    def load(cls, directory: Path, device: torch.device | str | None = None) -> EncoderTagger:
        """Rebuild a saved tagger from ``directory`` alone, offline (``modeldir.load_tagger``
        adds its label map): weights read to the CPU whatever device trained them, then moved
        to ``device`` if given."""
        directory = Path(directory)
        tensors, meta = load_checkpoint(directory)
        if meta.get("backbone") != cls.backbone:
            raise ModelError(f"not an encoder model (backbone {meta.get('backbone')!r})", directory / "meta.json")
        try:
            config = EncoderConfig(**meta["config"])
            labels = LabelSpace.from_json(meta["labels"])
        except (KeyError, TypeError, ValueError, ValidationError) as err:
            raise ModelError(f"bad config or labels: {err}", directory / "meta.json") from err
        source = directory / ENCODER_SUBDIR
        if not (source / "config.json").is_file():
            raise ModelError("the encoder config is missing", source / "config.json")
        tokenizer = load_tokenizer(str(source))
        config = with_casing(config, tokenizer)  # an int in meta.json (always, when saved) stays
        net = EncoderNet(load_encoder(str(source), pretrained=False), len(labels), config)
        load_state(net, tensors, directory)
        net.eval()
        seed = meta.get("seed", 0)
        tagger = cls(net, tokenizer, labels, config, meta.get("label_mode"), seed if isinstance(seed, int) else 0)
        return tagger if device is None else tagger.to(device)


def _as_config(config: EncoderConfig | dict[str, Any] | None) -> EncoderConfig:
    if isinstance(config, EncoderConfig):
        return config
    try:
        return EncoderConfig(**(config or {}))
    except ValidationError as err:
        raise ConfigError(f"bad encoder config: {err.errors()[0]['loc']}: {err.errors()[0]['msg']}") from err


def _first_id(tokenizer: Any, *names: str, default: int | None = None) -> int:
    for name in names:
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    if default is None:
        raise ModelError(f"the tokenizer has none of {', '.join(names)}")
    return default
