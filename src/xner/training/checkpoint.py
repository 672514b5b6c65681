"""Model directories: ``model.safetensors`` (weights) + ``meta.json`` (everything else).

Loading validates before trusting anything and turns every problem into a one-line
``ModelError`` naming the file. Never pickle, never ``torch.load``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from xner.atomic import atomic_dir, write_json
from xner.errors import ModelError

WEIGHTS = "model.safetensors"
META = "meta.json"
REQUIRED_META = ("xner_version", "backbone", "labels", "label_mode")


def save_checkpoint(directory: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Write weights and metadata into ``directory``, replacing it atomically.

    ``meta`` must hold REQUIRED_META; the tensor shapes are added under ``"shapes"`` so a
    load can check weights and metadata belong together.
    """
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise ValueError(f"checkpoint metadata lacks {missing}")
    # safetensors refuses shared or non-contiguous storage; a plain copy of each is cheap.
    flat = {name: t.detach().cpu().contiguous().clone() for name, t in tensors.items()}
    full_meta = dict(meta, shapes={name: list(t.shape) for name, t in flat.items()})
    with atomic_dir(directory) as tmp:
        save_file(flat, str(tmp / WEIGHTS))
        write_json(tmp / META, full_meta)


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
    """Read and validate a model directory: (tensors, meta)."""
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


def load_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], directory: Path) -> None:
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


def load_tagger(directory: str | Path) -> Any:
    """Load any xner model directory, whichever backbone wrote it."""
    folder = Path(directory)
    meta = read_meta(folder)
    backbone = meta["backbone"]
    if backbone == "bilstm_crf":
        from xner.models.bilstm_crf import BiLSTMCRFTagger

        return BiLSTMCRFTagger.load(folder)
    if backbone == "encoder":
        module = importlib.import_module("xner.models.encoder")
        return module.EncoderTagger.load(folder)
    raise ModelError(f"unknown backbone {backbone!r}", folder / META)
