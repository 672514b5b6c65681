"""Target fits a run can reuse: the same start model, data, settings and seed make the same fit.

A study fits PTF on the target alone once per seed and label mode (its baseline), yet active
learning fits it again as its round 0, the run of round k refits rounds 0 to k-1, and the reference
study's re-annotation fits it first. With ``runtime.fit_cache`` set (a study sets its own folder),
such a fit is saved once (the model folder with its fit record) and loaded whenever the same fit is
asked for again. On CPU a seeded fit is deterministic, so the loaded model is the one a refit would
make: results are unchanged, only time is saved (a test checks a run against its cached twin).

The key holds everything the fit depends on: the start model's files, the training and dev
sentences (tokens and tags, in order), the trainer's settings (seed, device, threads included),
the label map that starts new labels, and the xner version. A fit that starts from a model in
memory, or that has a time limit, is never cached.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from xner import __version__
from xner.atomic import write_text
from xner.data.corpus import Sentence
from xner.errors import ModelError
from xner.labels.normalise import LabelMap
from xner.models.base import FitResult, ProgressFn, Tagger, TrainConfig

FIT_RECORD = "fit.json"


def model_digest(folder: Path) -> str:
    """sha256 over a model folder's meta.json and weight files (names and bytes)."""
    files = sorted(p for p in Path(folder).iterdir() if p.name == "meta.json" or p.suffix == ".safetensors")
    stats = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _digest(str(Path(folder).resolve()), stats)


@lru_cache(maxsize=16)
def _digest(folder: str, stats: tuple[tuple[str, int, int], ...]) -> str:
    """Hashed once per process for each version of a folder (``stats`` changes when a file does)."""
    from xner.data.download import file_sha256

    return hashlib.sha256("".join(f"{name}\x00{file_sha256(Path(folder) / name)}\n" for name, _, _ in stats)
                          .encode("utf-8")).hexdigest()


def fit_key(start: Path, train: Sequence[Sentence], dev: Sequence[Sentence], train_cfg: TrainConfig,
            label_map: LabelMap | None) -> str:
    """The cache key of fine-tuning ``start`` on ``train`` (early-stopped on ``dev``)."""
    from xner.transfer.hashing import config_hash, sentences_digest

    return config_hash({"start": model_digest(start), "train": sentences_digest(train),
                        "dev": sentences_digest(dev), "train_cfg": train_cfg, "label_map": label_map,
                        "xner": __version__})[:32]


def finetune_cached(cache: Path | None, start: Path | Tagger, train: Sequence[Sentence],
                    dev: Sequence[Sentence], train_cfg: TrainConfig, label_map: LabelMap | None = None,
                    keep: bool = True, progress: ProgressFn | None = None,
                    log_path: Path | None = None) -> tuple[Tagger, FitResult]:
    """``finetune(start, train, dev, train_cfg, progress, log_path, label_map)``, or its saved
    result from ``cache`` (its epochs then written to ``log_path``); a new fit is saved there when
    ``keep`` (a fit nothing will ask for again need not be)."""
    from xner.transfer.pretrain_finetune import finetune

    if cache is None or not isinstance(start, Path) or train_cfg.max_seconds is not None:
        return finetune(start, train, dev, train_cfg, progress, log_path, label_map)
    entry = Path(cache) / fit_key(start, train, dev, train_cfg, label_map)
    found = _load(entry)
    if found is not None:
        if log_path is not None:
            write_text(log_path, "".join(entry.to_line() + "\n" for entry in found[1].history))
        return found
    tagger, fit = finetune(start, train, dev, train_cfg, progress, log_path, label_map)
    if keep:
        from xner.models.modeldir import save_model

        save_model(entry, tagger, files={FIT_RECORD: fit.to_json()})
    return tagger, fit


def _load(entry: Path) -> tuple[Tagger, FitResult] | None:
    """The saved fit in ``entry``; None when there is none (or it cannot be read: it is refitted)."""
    from xner.models.modeldir import load_tagger

    if not (entry / FIT_RECORD).is_file():
        return None
    try:
        record = json.loads((entry / FIT_RECORD).read_text(encoding="utf-8"))
        return load_tagger(entry), FitResult.from_json(record)
    except (ModelError, OSError, ValueError, KeyError, TypeError):
        return None

