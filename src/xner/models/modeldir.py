"""The model folder: the one writer and reader of a saved model, whoever trained it.

    model.safetensors  weights (safetensors: never pickle, never ``torch.load``)
    meta.json          backbone, labels, label mode, config, tensor shapes, ...
    label_map.json     the label map of a normalised model (absent for raw labels)
    train_log.jsonl    one JSON line per epoch of the fit that made the model (optional)
    metrics.json       scores recorded by whoever trained it (optional)
    encoder/           tokenizer and encoder config (encoder backbone only, written by the tagger)

A tagger writes its own weights and meta through ``write_checkpoint`` (its ``write_state``);
everything else in the folder is written here, so a normalised model carries its label map
however it is saved. Loading validates before trusting anything and turns every problem into a
one-line ``ModelError`` naming the file. torch and safetensors are imported late: reading a
label map or meta.json stays cheap.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xner.atomic import atomic_dir, write_json
from xner.errors import ConfigError, ModelError
from xner.labels.normalise import LabelMap

if TYPE_CHECKING:
    import torch

    from xner.models.base import Tagger

WEIGHTS = "model.safetensors"
META = "meta.json"
LABEL_MAP = "label_map.json"
TRAIN_LOG = "train_log.jsonl"
METRICS = "metrics.json"
REQUIRED_META = ("xner_version", "backbone", "labels", "label_mode")


# ------------------------------------------------------------------ weights + meta
def write_checkpoint(folder: str | Path, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> None:
    """Write weights and metadata into the existing ``folder`` (not atomic: see ``save_checkpoint``).

    ``meta`` must hold REQUIRED_META; the tensor shapes are added under ``"shapes"`` so a load
    can check that weights and metadata belong together.
    """
    from safetensors.torch import save_file

    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise ValueError(f"checkpoint metadata lacks {missing}")
    # safetensors refuses shared or non-contiguous storage; a plain copy of each is cheap.
    flat = {name: t.detach().cpu().contiguous().clone() for name, t in tensors.items()}
    full_meta = dict(meta, shapes={name: list(t.shape) for name, t in flat.items()})
    save_file(flat, str(Path(folder) / WEIGHTS))
    write_json(Path(folder) / META, full_meta)


def save_checkpoint(directory: str | Path, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> None:
    """Weights and metadata alone, replacing ``directory`` atomically."""
    with atomic_dir(directory) as tmp:
        write_checkpoint(tmp, tensors, meta)


def read_meta(directory: str | Path) -> dict[str, Any]:
    """Parse and check ``meta.json`` only (cheap: used to dispatch on the backbone)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ModelError("model directory not found", folder)
    path = folder / META
    if not path.is_file():
        raise ModelError("missing metadata file (not an xner model directory?)", path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"unreadable metadata: {err}", path) from err
    if not isinstance(meta, dict):
        raise ModelError("metadata is not a JSON object", path)
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise ModelError(f"metadata lacks the key(s) {', '.join(missing)}", path)
    labels = meta["labels"]
    if not isinstance(labels, list) or not labels or not all(isinstance(t, str) for t in labels):
        raise ModelError("metadata 'labels' must be a non-empty list of tags", path)
    return meta


def load_checkpoint(directory: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read and validate a model directory's weights and metadata: (tensors, meta)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(directory)
    meta = read_meta(folder)
    path = folder / WEIGHTS
    if not path.is_file():
        raise ModelError("missing weights file", path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ModelError(f"corrupted or unreadable weights: {' '.join(str(err).split())}", path) from err
    shapes = meta.get("shapes")
    if shapes is not None:
        _check_shapes(tensors, shapes, path)
    return tensors, meta


def _check_shapes(tensors: dict[str, torch.Tensor], shapes: Any, path: Path) -> None:
    if not isinstance(shapes, dict):
        raise ModelError("metadata 'shapes' is not a mapping", path.with_name(META))
    if set(shapes) != set(tensors):
        odd = sorted(set(shapes) ^ set(tensors))
        raise ModelError(f"tensors do not match meta.json (differ: {', '.join(odd[:5])})", path)
    for name, tensor in tensors.items():
        if list(tensor.shape) != shapes[name]:
            raise ModelError(
                f"tensor {name} has shape {list(tensor.shape)}, meta.json says {shapes[name]}", path
            )


def load_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], directory: str | Path) -> None:
    """Copy ``tensors`` into ``module``; any name or shape mismatch is a ModelError."""
    path = Path(directory) / WEIGHTS
    expected = module.state_dict()
    if set(expected) != set(tensors):
        odd = sorted(set(expected) ^ set(tensors))
        raise ModelError(f"weights do not fit the model described by meta.json ({', '.join(odd[:5])})", path)
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise ModelError(
                f"tensor {name} has shape {list(tensor.shape)} but meta.json implies "
                f"{list(expected[name].shape)} (label or vocabulary count mismatch?)",
                path,
            )
    module.load_state_dict(tensors)


# ------------------------------------------------------------------ label map
def tagger_label_map(tagger: Any) -> LabelMap | None:
    """The label map a tagger was trained with, if its labels are normalised (else None)."""
    if getattr(tagger, "label_mode", None) != "normalised":
        return None
    label_map = getattr(tagger, "label_map", None)
    return label_map if isinstance(label_map, LabelMap) else None


def read_label_map(directory: str | Path) -> LabelMap | None:
    """The folder's ``label_map.json`` (None when there is none: a raw model, or an old one)."""
    path = Path(directory) / LABEL_MAP
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return LabelMap.from_json(data, source=str(path))
    except ConfigError as err:
        raise ModelError(f"bad label map: {err.message}", path) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise ModelError(f"bad label map: {' '.join(str(err).split())}", path) from None


# ------------------------------------------------------------------ whole folders
def save_model(
    directory: str | Path,
    tagger: Tagger,
    *,
    train_log: str | Path | None = None,
    metrics: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    before_commit: Callable[[Path], None] | None = None,
) -> Path:
    """Write the whole model folder for ``tagger``, replacing ``directory`` atomically.

    The tagger writes weights and meta (``tagger.write_state``); then come its label map (when
    its labels are normalised), a copy of ``train_log`` if that file exists, ``metrics`` as
    metrics.json and each of ``files`` (name -> JSON value). ``before_commit(tmp)`` runs just
    before the folder is swapped into place (a test hook may die there). Returns the folder.
    """
    with atomic_dir(directory) as tmp:
        tagger.write_state(tmp)
        label_map = tagger_label_map(tagger)
        if label_map is not None:
            write_json(tmp / LABEL_MAP, label_map.to_json())
        if train_log is not None and Path(train_log).is_file():
            shutil.copyfile(train_log, tmp / TRAIN_LOG)
        if metrics is not None:
            write_json(tmp / METRICS, dict(metrics))
        for name, value in (files or {}).items():
            write_json(tmp / name, value)
        if before_commit is not None:
            before_commit(tmp)
    return Path(directory)


def copy_model(
    source: str | Path,
    directory: str | Path,
    *,
    meta: Mapping[str, Any],
    label_map: LabelMap | None,
    files: Mapping[str, Any] | None = None,
) -> Path:
    """Copy the model folder ``source`` to ``directory`` atomically with ``meta`` merged into its
    meta.json (e.g. renamed labels), its label map replaced by ``label_map`` and each of
    ``files`` (name -> JSON value) written instead of any file of that name. The weights are
    copied byte for byte."""
    src = Path(source)
    old_meta = read_meta(src)
    replaced = {META, LABEL_MAP, *(files or {})}
    with atomic_dir(directory) as tmp:
        for item in src.iterdir():
            if item.is_dir():
                shutil.copytree(item, tmp / item.name)
            elif item.name not in replaced:
                shutil.copyfile(item, tmp / item.name)
        write_json(tmp / META, {**old_meta, **meta})
        if label_map is not None:
            write_json(tmp / LABEL_MAP, label_map.to_json())
        for name, value in (files or {}).items():
            write_json(tmp / name, value)
    return Path(directory)


def load_tagger(directory: str | Path) -> Tagger:
    """Load any xner model folder, whichever backbone wrote it (dispatch on meta.json), with the
    label map it was trained with on ``tagger.label_map`` (None for raw labels)."""
    from xner.models.registry import BACKBONES

    folder = Path(directory)
    meta = read_meta(folder)
    entry = BACKBONES.get(meta["backbone"]) if isinstance(meta["backbone"], str) else None
    if entry is None:
        raise ModelError(f"unknown backbone {meta['backbone']!r}", folder / META)
    tagger = entry.load(folder)
    tagger.label_map = read_label_map(folder)  # type: ignore[attr-defined]
    return tagger
