"""PTF: pre-train on the source domain once (cached), then fine-tune on a target domain.

Also home of ``train_target``, which runs any of the study's three methods:
``ptf`` (pre-train + fine-tune), ``dft`` (target only) and ``jt`` (source + target jointly).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from xner.atomic import write_json
from xner.data.corpus import Domain, Sentence
from xner.errors import ConfigError
from xner.labels.normalise import LabelMap, apply_label_mode, load_label_map
from xner.labels.origins import label_origins, type_domains
from xner.labels.space import entity_type
from xner.models.base import FitResult, ProgressFn, Tagger, TrainableTagger, TrainConfig
from xner.models.modeldir import LABEL_MAP, META, TRAIN_LOG, copy_model, load_tagger, read_meta, save_model
from xner.training.trainer import fit as fit_tagger
from xner.transfer.hashing import config_hash, sentences_digest
from xner.transfer.joint import DEFAULT_TARGET_REPEAT, joint_train, train_scratch, union_labels

MODES: tuple[str, ...] = ("ptf", "dft", "jt")
LABEL_INITS: tuple[str, ...] = ("fresh", "map")  # how PTF starts target-only labels
_DONE = "pretrain.json"  # its presence marks a complete cache entry


def default_cache_dir() -> Path:
    import platformdirs

    return platformdirs.user_cache_path("xner") / "pretrained"


def stamp_label_mode(tagger: Tagger, label_mode: str | None, label_map: LabelMap | None = None) -> None:
    """Record the label mode (and, for normalised labels, the label map) on the tagger, so that
    any ``save`` writes them into its folder and evaluation maps gold tags the same way."""
    tagger.label_mode = label_mode  # type: ignore[attr-defined]
    tagger.label_map = label_map if label_mode == "normalised" else None  # type: ignore[attr-defined]


def pretrain_key(
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    backbone: str,
    model_config: dict[str, Any] | None,
    train_cfg: TrainConfig,
    label_mode: str,
    label_map: LabelMap | None,
) -> str:
    """Identity of a pre-training run: everything that changes the model, nothing that doesn't.

    ``threads`` is left out: it changes speed, and a study fixes it anyway.
    """
    cfg = train_cfg.model_dump(exclude={"threads"})
    return config_hash({
        "backbone": backbone,
        "model_config": model_config or {},
        "train_config": cfg,
        "label_mode": label_mode,
        "label_map": label_map.to_json() if label_map is not None and label_mode != "raw" else None,
        "train": sentences_digest(train),
        "dev": sentences_digest(dev),
    })


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive lock across processes (and threads), so one pre-trains and the rest wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock (Windows): atomic_dir still keeps it whole
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def pretrain_source(
    source: Domain,
    backbone: str = "bilstm_crf",
    model_config: dict[str, Any] | None = None,
    train_cfg: TrainConfig | None = None,
    label_mode: str = "raw",
    label_map: LabelMap | None = None,
    cache_dir: Path | None = None,
    progress: ProgressFn | None = None,
) -> Path:
    """Train on ``source.train`` (early-stopped on ``source.dev``); return the saved model dir.

    The model lives in ``cache_dir/<hash>``; a second call with the same inputs returns it
    without training. The directory is built under a temp name and renamed into place under a
    lock, so concurrent callers never see (or write) half a model.
    """
    train_cfg = train_cfg or TrainConfig()
    if label_mode == "normalised" and label_map is None:
        label_map = load_label_map()
    train = apply_label_mode(source.train, label_mode, label_map)
    dev = apply_label_mode(source.dev, label_mode, label_map)
    if not train:
        raise ConfigError(f"source domain {source.name!r} has no training sentences")
    key = pretrain_key(train, dev, backbone, model_config, train_cfg, label_mode, label_map)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    final = cache / key
    if (final / _DONE).is_file():
        _backfill_label_map(final, label_mode, label_map)
        return final
    rename = _renaming([*source.train, *source.dev], [*train, *dev]) if label_mode != "raw" else None
    if rename is not None:
        # The map only renames the source's labels one-to-one (CoNLL-2003's person/location/...
        # become PER/LOC/...): the model would be the raw one under other names, so train that
        # (or find it cached) and copy it with its labels renamed.
        raw = pretrain_source(source, backbone, model_config, train_cfg, "raw", None, cache, progress)
        with _locked(cache / f".{key}.lock"):
            if not (final / _DONE).is_file():
                _copy_renamed(raw, final, label_mode, label_map, key, rename)
        return final
    with _locked(cache / f".{key}.lock"):
        if (final / _DONE).is_file():  # another process finished while we waited
            return final
        _pretrain_into(final, train, dev, backbone, model_config, train_cfg, label_mode, label_map, progress,
                       {"key": key, "source": source.name, "backbone": backbone})
    return final


def _backfill_label_map(final: Path, label_mode: str, label_map: LabelMap | None) -> None:
    """A normalised cache entry written before models carried their label map gets it now: its
    key hashes the map, so this is the map it was trained with."""
    if label_mode == "normalised" and label_map is not None and not (final / LABEL_MAP).is_file():
        write_json(final / LABEL_MAP, label_map.to_json())


def _renaming(original: Sequence[Sentence], mapped: Sequence[Sentence]) -> dict[str, str] | None:
    """The entity-type renaming that turns ``original`` into ``mapped`` if it is one-to-one, else None."""
    rename: dict[str, str] = {}
    for before, after in zip(original, mapped, strict=True):
        if before.tokens != after.tokens:
            return None
        for old, new in zip(before.tags, after.tags, strict=True):
            if old[:2] != new[:2]:  # same prefix, so both tags are O or neither is
                return None
            old_type, new_type = entity_type(old), entity_type(new)
            if old_type is not None and new_type is not None and rename.setdefault(old_type, new_type) != new_type:
                return None
    return rename if len(set(rename.values())) == len(rename) else None


def _rename_tag(tag: str, rename: dict[str, str]) -> str:
    kind = entity_type(tag)
    return tag if kind is None else tag[:2] + rename.get(kind, kind)


def _copy_renamed(raw: Path, final: Path, label_mode: str, label_map: LabelMap | None, key: str,
                  rename: dict[str, str]) -> None:
    """Copy a cached model under another key with its labels renamed and ``label_mode`` and the
    label map recorded."""
    labels = [_rename_tag(tag, rename) for tag in read_meta(raw)["labels"]]
    done = json.loads((raw / _DONE).read_text(encoding="utf-8"))
    copy_model(raw, final, meta={"label_mode": label_mode, "labels": labels},
               label_map=label_map if label_mode == "normalised" else None,
               files={_DONE: {**done, "key": key, "label_mode": label_mode, "copied_from": raw.name}})


def _pretrain_into(
    final: Path,
    train: list[Sentence],
    dev: list[Sentence],
    backbone: str,
    model_config: dict[str, Any] | None,
    train_cfg: TrainConfig,
    label_mode: str,
    label_map: LabelMap | None,
    progress: ProgressFn | None,
    info: dict[str, Any],
) -> None:
    """Train from scratch and save the model folder with its log and ``pretrain.json``."""
    final.parent.mkdir(parents=True, exist_ok=True)
    # The epoch log is written outside the model folder while training, then copied in.
    with tempfile.TemporaryDirectory(prefix=".work.", dir=final.parent) as work:
        log = Path(work) / TRAIN_LOG
        tagger, result = train_scratch(train, dev, train_cfg, backbone, model_config,
                                       progress=progress, log_path=log)
        stamp_label_mode(tagger, label_mode, label_map)
        save_model(final, tagger, train_log=log, files={_DONE: {
            **info,
            "label_mode": label_mode,
            "model_config": model_config or {},
            "train_config": train_cfg.model_dump(),
            "train_sentences": len(train),
            "dev_sentences": len(dev),
            "fit": result.to_json(),
        }})


def finetune(
    start: Path | Tagger,
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    train_cfg: TrainConfig,
    progress: ProgressFn | None = None,
    log_path: Path | None = None,
    label_map: LabelMap | None = None,
) -> tuple[Tagger, FitResult]:
    """Grow a pre-trained model (a saved model folder, or a tagger in memory such as one already
    fine-tuned on other domains) to the target's words and labels, and fit it on the target.

    With ``label_map``, each target-only label starts as a copy of the source label whose type
    maps to the same generic type (``politician`` from ``person``; see ``xner.labels.origins``).

    ``train``/``dev`` must already be in the model's label mode. The label space becomes the
    source labels (ids unchanged) followed by the target-only labels; vocabularies grow with
    the words of ``train`` only (dev words would get untrained rows, worse than UNK).
    """
    if not train:
        raise ConfigError("no target training sentences to fine-tune on")
    tagger = load_tagger(Path(start)) if isinstance(start, (str, Path)) else start
    labels = tagger.labels.copy()
    labels.extend(union_labels(train, dev))
    domains = {s.domain for s in train}
    # Pooled data from several domains: each type takes its own domain's map overrides.
    where = train[0].domain if len(domains) == 1 else type_domains(train)
    origins = label_origins(tagger.labels, labels, label_map, where)
    tagger.adapt(list(train), labels, origins)
    # A backbone's tagger is also a TrainableTagger; Tagger is what callers may hold.
    result = fit_tagger(cast(TrainableTagger, tagger), list(train), list(dev), train_cfg,
                        progress=progress, log_path=log_path)
    return tagger, result


def _check_init_model(directory: Path, label_mode: str) -> None:
    """A starting model must be readable and use the same label mode as the target data."""
    theirs = read_meta(directory)["label_mode"]
    if theirs is not None and theirs != label_mode:
        raise ConfigError(f"the starting model was trained on {theirs} labels, not {label_mode}",
                          directory / META)


def _check_method(mode: str, label_init: str, has_source: bool, has_init_model: bool) -> None:
    if mode not in MODES:
        raise ConfigError(f"unknown transfer mode {mode!r}; choose one of {', '.join(MODES)}")
    if label_init not in LABEL_INITS:
        raise ConfigError(f"unknown label init {label_init!r}; choose one of {', '.join(LABEL_INITS)}")
    if has_init_model and mode != "ptf":
        raise ConfigError(f"a starting model only applies to ptf, not {mode!r}")
    if mode != "dft" and not has_source and not has_init_model:
        raise ConfigError(f"mode {mode!r} needs a source domain")


def train_target(
    mode: str,
    source: Domain | None,
    target_train: Sequence[Sentence],
    target_dev: Sequence[Sentence],
    train_cfg: TrainConfig,
    *,
    backbone: str = "bilstm_crf",
    model_config: dict[str, Any] | None = None,
    label_mode: str = "raw",
    label_map: LabelMap | None = None,
    cache_dir: Path | None = None,
    source_cfg: TrainConfig | None = None,
    target_repeat: int = DEFAULT_TARGET_REPEAT,
    progress: ProgressFn | None = None,
    pretrain_progress: ProgressFn | None = None,
    log_path: Path | None = None,
    label_init: str = "map",
    init_model: Path | None = None,
) -> tuple[Tagger, FitResult]:
    """Run one method on a target: ``ptf``, ``dft`` or ``jt``. Labels are mapped by ``label_mode``
    for source and target alike, and the returned tagger records the mode.

    ``source_cfg`` (default ``train_cfg``) is used to pre-train in PTF; ``target_repeat`` only
    matters for JT (see ``xner.transfer.joint``). ``label_init="map"`` starts PTF's target-only
    labels from the source label of the same generic type under ``label_map`` (default: the
    shipped CrossNER map), ``"fresh"`` from random rows. ``init_model`` (PTF only) is a saved
    model to fine-tune instead of pre-training on ``source`` (e.g. one trained on pooled domains).
    """
    _check_method(mode, label_init, source is not None, init_model is not None)
    if label_mode == "normalised" and label_map is None:
        label_map = load_label_map()
    train = apply_label_mode(target_train, label_mode, label_map)
    dev = apply_label_mode(target_dev, label_mode, label_map)
    if mode == "ptf":
        if init_model is not None:
            start = Path(init_model)
            _check_init_model(start, label_mode)
        else:
            assert source is not None
            start = pretrain_source(source, backbone, model_config, source_cfg or train_cfg,
                                    label_mode, label_map, cache_dir, pretrain_progress)
        init_map = (label_map or load_label_map()) if label_init == "map" else None
        tagger, result = finetune(start, train, dev, train_cfg, progress, log_path, init_map)
    elif mode == "dft":
        tagger, result = train_scratch(train, dev, train_cfg, backbone, model_config,
                                       progress=progress, log_path=log_path)
    else:
        assert source is not None
        source_train = apply_label_mode(source.train, label_mode, label_map)
        tagger, result = joint_train(source_train, train, dev, train_cfg, backbone, model_config,
                                     target_repeat, progress, log_path)
    stamp_label_mode(tagger, label_mode, label_map)
    return tagger, result
