"""The BiLSTM-CRF tagger: vocabularies + labels + ``BiLSTMNet``, behind the Tagger protocol."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xner import __version__
from xner.data.corpus import Sentence
from xner.errors import DataError, ModelError
from xner.labels.normalise import LabelMap
from xner.labels.origins import inside_conflicts
from xner.labels.space import LabelSpace
from xner.models.base import TaggerInput, TrainConfig
from xner.models.bilstm_batch import Batch, Encoded
from xner.models.bilstm_net import BiLSTMConfig, BiLSTMNet
from xner.models.device import autocast, budget_chunks, module_device
from xner.models.modeldir import load_checkpoint, load_state, save_model, write_checkpoint
from xner.models.vocab import PAD_ID, UNK_ID, Vocabularies

__all__ = ["BiLSTMCRFTagger", "BiLSTMConfig"]

BACKBONE = "bilstm_crf"
# Training batches are sorted by length within pools of this many batches: little padding,
# yet the order still changes every epoch.
_POOL_BATCHES = 50
# Distinct tokens per char-CNN call at inference (bounds memory on huge inputs).
_CHAR_CHUNK = 2048
# Padded tokens per inference batch (and at most ``infer_batch`` sentences): 512 sentences of 64
# tokens, so a batch of long sentences takes no more memory than the usual one of short ones.
PREDICT_TOKENS = 512 * 64
# Encodings kept per tagger: a fit encodes its train and dev lists once, not every epoch.
_ENCODED_KEPT = 2


def _tokens(item: Sentence | Sequence[str]) -> tuple[str, ...]:
    return item.tokens if isinstance(item, Sentence) else tuple(item)


class BiLSTMCRFTagger:
    """Word (lower-cased) + casing + char-CNN embeddings -> BiLSTM -> linear -> CRF."""

    def __init__(self, config: BiLSTMConfig, vocab: Vocabularies, labels: LabelSpace, seed: int = 0) -> None:
        self.config = config
        self.vocab = vocab
        self.labels = labels.copy()
        self.seed = seed
        self.label_mode: str | None = None
        self.label_map: LabelMap | None = None  # the map of normalised labels, saved with the model
        self.unk_replace = 0.0  # set from TrainConfig while ``fitting``
        self.precision = "fp32"  # forward passes autocast to this (the trainer sets it)
        self.predict_tokens = PREDICT_TOKENS
        # key -> (the sentences, their encoding); the sentences are held so their ids stay theirs
        self._encodings: dict[tuple[Any, ...], tuple[Sequence[Any], Encoded]] = {}
        with torch.random.fork_rng():  # seeded init without disturbing the caller's RNG
            torch.manual_seed(seed)
            self.net = BiLSTMNet(config, len(vocab.words), len(vocab.chars), len(labels))
        self.net.eval()

    # ------------------------------------------------------------ construction
    @classmethod
    def create(cls, train: Sequence[Sentence], labels: LabelSpace,
               config: BiLSTMConfig | dict[str, Any] | None = None, seed: int = 0) -> BiLSTMCRFTagger:
        if config is None:
            config = BiLSTMConfig()
        elif isinstance(config, dict):
            config = BiLSTMConfig(**config)
        vocab = Vocabularies.build(s.tokens for s in train)
        return cls(config, vocab, labels, seed)

    @property
    def module(self) -> torch.nn.Module:
        return self.net

    @property
    def device(self) -> torch.device:
        return module_device(self.net)

    def to(self, device: torch.device | str) -> BiLSTMCRFTagger:
        """Move the weights to ``device``; batches and outputs follow them."""
        self.net.to(torch.device(device))
        return self

    # ------------------------------------------------------------ batching
    def _encoded(self, token_lists: Sequence[Sequence[str]],
                 sentences: Sequence[Sentence] | None = None, items: Sequence[Any] = ()) -> Encoded:
        """Encode tokens, plus the tags of ``sentences`` when given (training / scoring).

        ``items``, when they are all (immutable) Sentences, key a small cache: the same sentence
        objects under the same vocabularies and labels encode the same, so an epoch's batches and
        the dev set's prediction reuse the first epoch's encoding."""
        key: tuple[Any, ...] | None = None
        if items and all(isinstance(item, Sentence) for item in items):
            key = (sentences is not None, id(self.vocab), len(self.vocab.words), len(self.vocab.chars),
                   id(self.labels), len(self.labels), self.config.max_word_len, *map(id, items))
            if key in self._encodings:
                return self._encodings[key][1]
        encoded = self._encode(token_lists, sentences)
        if key is not None:
            while len(self._encodings) >= _ENCODED_KEPT:
                del self._encodings[next(iter(self._encodings))]
            self._encodings[key] = (list(items), encoded)
        return encoded

    def _encode(self, token_lists: Sequence[Sequence[str]], sentences: Sequence[Sentence] | None) -> Encoded:
        tag_ids = None
        if sentences is not None:
            tag_ids = []
            for sentence in sentences:
                try:
                    tag_ids.append(self.labels.encode(sentence.tags))
                except KeyError as err:
                    raise DataError(
                        f"tag {err.args[0]!r} is not among the model's labels "
                        f"({', '.join(self.labels.tags)}); adapt the model to the new labels first",
                        sentence.file or None, sentence.line or None,
                    ) from None
        return Encoded(token_lists, self.vocab, self.config.max_word_len, tag_ids)

    def batches(self, sentences: Sequence[Sentence], batch_size: int, rng: np.random.Generator,
                train: bool) -> Iterator[Batch]:
        """Length-sorted batches; shuffled pools and UNK replacement of singletons when ``train``."""
        keep = [i for i, s in enumerate(sentences) if len(s) > 0]  # an empty sentence teaches nothing
        if train:
            order = [keep[i] for i in rng.permutation(len(keep))]
            pool = batch_size * _POOL_BATCHES
            groups: list[list[int]] = []
            for start in range(0, len(order), pool):
                chunk = sorted(order[start:start + pool], key=lambda i: -len(sentences[i]))
                groups.extend(chunk[j:j + batch_size] for j in range(0, len(chunk), batch_size))
            groups = [groups[i] for i in rng.permutation(len(groups))]
        else:
            order = sorted(keep, key=lambda i: -len(sentences[i]))
            groups = [order[j:j + batch_size] for j in range(0, len(order), batch_size)]
        encoded = self._encoded([s.tokens for s in sentences], sentences, items=sentences)
        singletons = None
        if train and self.unk_replace > 0:
            counts = np.bincount(encoded.word_ids[encoded.flat[:-1]], minlength=len(self.vocab.words))
            singletons = counts == 1
        device = self.device
        for group in groups:
            batch = encoded.batch(group, per_batch_chars=True)
            if singletons is not None:
                words = batch.words.numpy()
                drop = singletons[words] & (rng.random(words.shape) < self.unk_replace)
                words[drop] = UNK_ID  # in place: the tensor shares this memory
            yield batch.to(device)

    def _char_table(self, encoded: Encoded) -> torch.Tensor:
        """Char-CNN features of every distinct token, in chunks of similar length so that
        short tokens are not padded to the longest one."""
        device = self.device
        by_length = torch.from_numpy(np.argsort(encoded.char_lens, kind="stable"))
        chars = torch.from_numpy(encoded.chars).to(device)
        char_mask = torch.from_numpy(encoded.char_mask).to(device)
        feats = torch.empty(len(chars), self.config.char_filters * len(self.config.char_widths), device=device)
        for start in range(0, len(by_length), _CHAR_CHUNK):
            rows = by_length[start:start + _CHAR_CHUNK]
            width = int(encoded.char_lens[rows.numpy()].max())
            rows_here = rows.to(device)
            part = self.net.char_features(chars[rows_here, :width], char_mask[rows_here, :width])
            feats[rows_here] = part.float()  # the table is fp32, whatever autocast computed it in
        return feats

    def _run(self, sentences: TaggerInput) -> Iterator[tuple[Batch, torch.Tensor, list[int]]]:
        """Inference batches (longest first, within ``predict_tokens`` padded tokens and
        ``infer_batch`` sentences) with their emissions, in the tagger's device and precision;
        char features are computed once per distinct token."""
        token_lists = [_tokens(s) for s in sentences]
        encoded = self._encoded(token_lists, items=sentences)
        self.net.eval()
        device = self.device
        with autocast(device, self.precision):  # never held across a yield: the caller's code is its own
            feats = self._char_table(encoded)
        lstm = self.net.bidirectional_lstm().to(device)
        order = sorted((i for i, t in enumerate(token_lists) if t), key=lambda i: -len(token_lists[i]))
        lengths = [len(t) for t in token_lists]
        for chunk in budget_chunks(order, lengths, self.config.infer_batch, self.predict_tokens):
            batch = encoded.batch(chunk, per_batch_chars=False).to(device)
            with autocast(device, self.precision):
                emissions = self.net.emissions(batch, feats, lstm)
            yield batch, emissions, [lengths[i] for i in batch.order]

    # ------------------------------------------------------------ training
    @contextmanager
    def fitting(self, cfg: TrainConfig, train: Sequence[Sentence]) -> Iterator[None]:
        """The trainer holds this for a fit on ``train``: batches replace singletons by UNK at
        ``cfg``'s rate (the rate stays set afterwards, as it always has), and only the word rows
        ``train`` can reach are trained (``BiLSTMNet.training_rows``: the same fit, as no other
        row gets a gradient). With weight decay every row moves, so the whole table trains."""
        self.unk_replace = cfg.unk_replace
        if cfg.weight_decay > 0 or not train:
            yield
            return
        encoded = self._encoded([s.tokens for s in train], train, items=train)  # the batches reuse it
        rows = np.union1d(encoded.word_ids, [PAD_ID, UNK_ID])  # UNK: replaced singletons
        with self.net.training_rows(torch.from_numpy(rows)):
            yield

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        """One group: every weight learns at the trainer's rate."""
        return [{"params": [p for p in self.net.parameters() if p.requires_grad]}]

    def loss(self, batch: Batch, o_weight: float) -> torch.Tensor:
        return self.net.loss(batch, o_weight)

    # ------------------------------------------------------------ inference
    def predict(self, sentences: TaggerInput) -> list[list[str]]:
        result: list[list[str]] = [[] for _ in sentences]
        with torch.inference_mode():
            for batch, emissions, _ in self._run(sentences):
                for i, path in zip(batch.order, self.net.crf.decode(emissions, batch.mask)):
                    result[i] = self.labels.decode(path)
        return result

    def marginals(self, sentences: TaggerInput) -> list[np.ndarray]:
        result = [np.zeros((0, len(self.labels)), dtype=np.float32) for _ in sentences]
        with torch.inference_mode():
            for batch, emissions, lengths in self._run(sentences):
                probs = self.net.crf.marginals(emissions, batch.mask).cpu().numpy()
                for row, (i, n) in enumerate(zip(batch.order, lengths)):
                    result[i] = probs[row, :n].copy()
        return result

    def best_path_log_probs(self, sentences: TaggerInput) -> list[float]:
        """log P(best path) per sentence from the CRF (Viterbi score - log Z); 0.0 when empty."""
        result = [0.0 for _ in sentences]
        with torch.inference_mode():
            for batch, emissions, _ in self._run(sentences):
                logp = self.net.crf.best_path_log_prob(emissions.double(), batch.mask).tolist()
                for i, value in zip(batch.order, logp):
                    result[i] = float(value)
        return result

    # ------------------------------------------------------------ transfer
    def adapt(self, sentences: Sequence[Sentence], labels: LabelSpace,
              origins: Mapping[int, int] | None = None) -> None:
        """Grow vocabularies and labels for fine-tuning; old rows and shared labels are kept,
        new labels in ``origins`` start as copies of their old label."""
        old = self.labels.tags
        if labels.tags[: len(old)] != old:
            raise ModelError(
                f"new labels must extend the model's labels {old} (same tags first, in order); "
                f"got {labels.tags}"
            )
        self.vocab.grow(s.tokens for s in sentences)
        generator = torch.Generator().manual_seed(self.seed + 1)
        device = self.device
        self.net.grow(len(self.vocab.words), len(self.vocab.chars), len(labels), generator,
                      origins, inside_conflicts(labels, origins))
        self.net.to(device)  # grown layers are built on the CPU, from the seeded CPU generator
        self.labels = labels.copy()

    # ------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        """The whole model folder (see ``xner.models.modeldir``), written atomically."""
        save_model(directory, self)

    def write_state(self, folder: Path) -> None:
        """Weights and meta.json into ``folder``."""
        meta = {
            "xner_version": __version__,
            "backbone": BACKBONE,
            "labels": self.labels.to_json(),
            "label_mode": self.label_mode,
            "config": self.config.model_dump(mode="json"),
            "vocab": self.vocab.to_json(),
            "seed": self.seed,
        }
        write_checkpoint(folder, dict(self.net.state_dict()), meta)  # it copies the weights to the CPU

    @classmethod
    def load(cls, directory: Path, device: torch.device | str | None = None) -> BiLSTMCRFTagger:
        """Weights and meta of a saved tagger (``modeldir.load_tagger`` adds its label map), read
        to the CPU whatever device trained it, then moved to ``device`` if given."""
        tensors, meta = load_checkpoint(directory)
        path = Path(directory) / "meta.json"
        if meta["backbone"] != BACKBONE:
            raise ModelError(f"backbone is {meta['backbone']!r}, not {BACKBONE!r}", path)
        try:
            config = BiLSTMConfig(**meta["config"])
            labels = LabelSpace.from_json(meta["labels"])
            seed = int(meta.get("seed", 0))
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(f"bad BiLSTM-CRF metadata: {err}", path) from err
        try:
            vocab = Vocabularies.from_json(meta.get("vocab"))
        except ModelError as err:
            raise ModelError(err.message, path) from None
        tagger = cls(config, vocab, labels, seed)
        tagger.label_mode = meta["label_mode"]
        load_state(tagger.net, tensors, Path(directory))
        return tagger if device is None else tagger.to(device)
