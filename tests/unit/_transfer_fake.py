"""A small, fast fake Tagger (models/base.py protocol) for the transfer tests.

It "learns" the most frequent tag of each lower-cased word, keeps a vocabulary and a label
space like a real tagger, refuses an ``adapt`` that would move old label ids, and saves its
state as JSON through the real model-folder writer (``xner.models.modeldir``). ``fake_fit``
stands in for ``xner.training.trainer.fit``, which needs a torch module.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from seqeval.metrics import f1_score

from xner.atomic import write_json
from xner.data.corpus import Sentence
from xner.labels.space import LabelSpace
from xner.models.base import EpochLog, FitResult, ProgressFn, TrainConfig
from xner.models.modeldir import read_label_map, save_model


class FakeTagger:
    fit_calls: ClassVar[list[dict[str, Any]]] = []  # every fit, across instances
    adapt_origins: ClassVar[list[dict[int, int]]] = []  # the origins of every adapt

    def __init__(self, labels: LabelSpace, vocab: list[str], counts: dict[str, dict[str, int]],
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        self.labels = labels
        self.vocab = vocab
        self.counts = counts
        self.config = config or {}
        self.seed = seed
        self.label_mode: str | None = None
        self.label_map: Any = None

    @classmethod
    def create(cls, train: Sequence[Sentence], labels: LabelSpace,
               config: dict[str, Any] | None = None, seed: int = 0) -> FakeTagger:
        vocab = sorted({t.lower() for s in train for t in s.tokens})
        return cls(labels.copy(), vocab, {}, config, seed)

    def fit(self, train: Sequence[Sentence], dev: Sequence[Sentence], cfg: TrainConfig,
            progress: ProgressFn | None = None, log_path: Path | None = None) -> FitResult:
        FakeTagger.fit_calls.append({"train": list(train), "dev": list(dev), "labels": list(self.labels.tags)})
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for word, tags in self.counts.items():
            counts[word].update(tags)
        for sentence in train:
            for token, tag in zip(sentence.tokens, sentence.tags):
                if tag not in self.labels:
                    raise ValueError(f"tag {tag} not in label space")
                counts[token.lower()][tag] += 1
        self.counts = {w: dict(c) for w, c in counts.items()}
        score = float(f1_score([list(s.tags) for s in dev], self.predict(dev))) if dev else float("nan")
        history = [EpochLog(e, 1.0 / e, score, 0.0, 0.0) for e in range(1, cfg.epochs + 1)]
        if log_path is not None:
            Path(log_path).write_text("".join(json.dumps(vars(h)) + "\n" for h in history))
        for h in history:
            if progress is not None:
                progress(h.epoch, cfg.epochs, h.loss, h.dev_f1)
        return FitResult(cfg.epochs, score, cfg.epochs, 0.0, history)

    def predict(self, sentences: Sequence[Any]) -> list[list[str]]:
        out = []
        for sentence in sentences:
            tokens = sentence.tokens if isinstance(sentence, Sentence) else sentence
            out.append([self._best(t) for t in tokens])
        return out

    def _best(self, token: str) -> str:
        tags = self.counts.get(token.lower())
        return max(sorted(tags), key=lambda t: tags[t]) if tags else "O"

    def marginals(self, sentences: Sequence[Any]) -> list[np.ndarray]:
        out = []
        for tags in self.predict(sentences):
            probs = np.full((len(tags), len(self.labels)), 0.1 / max(len(self.labels) - 1, 1))
            for i, tag in enumerate(tags):
                probs[i, self.labels.id(tag)] = 0.9
            out.append(probs)
        return out

    def adapt(self, sentences: Sequence[Sentence], labels: LabelSpace,
              origins: dict[int, int] | None = None) -> None:
        FakeTagger.adapt_origins.append(dict(origins or {}))
        if labels.tags[: len(self.labels)] != self.labels.tags:
            raise ValueError("adapt would move existing label ids")
        self.vocab = self.vocab + sorted({t.lower() for s in sentences for t in s.tokens} - set(self.vocab))
        self.labels = labels.copy()

    def save(self, directory: Path) -> None:
        save_model(directory, self)

    def write_state(self, folder: Path) -> None:
        write_json(Path(folder) / "meta.json", {
            "xner_version": "fake", "backbone": "fake", "labels": self.labels.to_json(), "label_mode": self.label_mode,
            "vocab": self.vocab, "counts": self.counts, "config": self.config, "seed": self.seed,
        })

    @classmethod
    def load(cls, directory: Path) -> FakeTagger:
        meta = json.loads((Path(directory) / "meta.json").read_text())
        tagger = cls(LabelSpace.from_json(meta["labels"]), meta["vocab"], meta["counts"], meta["config"], meta["seed"])
        tagger.label_mode = meta["label_mode"]
        tagger.label_map = read_label_map(directory)
        return tagger


def fake_fit(tagger: FakeTagger, train: Sequence[Sentence], dev: Sequence[Sentence], cfg: TrainConfig,
             progress: ProgressFn | None = None, log_path: Path | None = None) -> FitResult:
    """``xner.training.trainer.fit`` for the fake: it counts instead of descending a gradient."""
    return tagger.fit(train, dev, cfg, progress=progress, log_path=log_path)


def fake_create_tagger(backbone: str, train: Sequence[Sentence], labels: LabelSpace,
                       model_config: dict[str, Any] | None = None, seed: int = 0) -> FakeTagger:
    return FakeTagger.create(train, labels, model_config, seed)


def sent(pairs: str, domain: str = "", line: int = 0) -> Sentence:
    """``"Paris/B-location is/O"`` -> Sentence."""
    tokens, tags = zip(*(item.rsplit("/", 1) for item in pairs.split()))
    return Sentence(tuple(tokens), tuple(tags), domain=domain, line=line)
