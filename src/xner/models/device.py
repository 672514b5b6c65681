"""Where a model runs and in what precision: device names, autocast and moving batches.

``resolve_device`` turns a user's ``auto | cpu | cuda | cuda:N | mps`` into a ``torch.device``
(auto: CUDA, then MPS, then CPU); a device that is not there is one ``ConfigError`` line.
``resolve_precision`` turns ``auto | fp32 | bf16 | fp16`` into what a device will use (auto:
bf16 on a CUDA GPU that supports it, else fp32). ``autocast`` is the forward-pass context for a
precision; the CRF leaves it (``crf.py`` always scores in fp32). Nothing here calls ``.cuda()``:
tensors follow a model's device.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal, TypeVar

import torch

from xner.errors import ConfigError

Precision = Literal["auto", "fp32", "bf16", "fp16"]
DEVICE_NAMES = "auto, cpu, cuda, cuda:N or mps"
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(?::(\d+))?)$")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
# cuBLAS needs a fixed workspace to be deterministic (see torch's reproducibility notes).
_CUBLAS_WORKSPACE = ":4096:8"
T = TypeVar("T")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """The torch device for ``name``; a malformed name or a device not on this machine is a
    one-line ``ConfigError`` (exit 2), raised before any data is read."""
    if isinstance(name, torch.device):
        name = str(name)
    text = name.strip().lower()
    match = _DEVICE.match(text)
    if match is None:
        raise ConfigError(f"device {name!r}: expected {DEVICE_NAMES}")
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "mps":
        if not _mps_available():
            raise ConfigError("device mps: this machine has no Apple MPS device (use --device cpu or auto)")
        return torch.device("mps")
    if not torch.cuda.is_available():
        raise ConfigError(f"device {text}: CUDA is not available here (torch {torch.__version__}, "
                          "no GPU or a CPU-only build); use --device cpu or auto")
    index = int(match.group(2) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise ConfigError(f"device {text}: this machine has {count} CUDA device{'s' if count != 1 else ''} "
                          f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})")
    return torch.device("cuda", index)


def resolve_precision(precision: str, device: torch.device) -> Literal["fp32", "bf16", "fp16"]:
    """What ``precision`` means on ``device``: auto is bf16 on a CUDA GPU with bf16, else fp32."""
    if precision == "auto":
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError(f"precision bf16: {torch.cuda.get_device_name(device)} does not support bfloat16; "
                          "use --precision fp16 or fp32")
    if precision not in ("fp32", "bf16", "fp16"):
        raise ConfigError(f"precision {precision!r}: expected auto, fp32, bf16 or fp16")
    return precision  # type: ignore[return-value]


def autocast(device: torch.device, precision: str) -> AbstractContextManager[Any]:
    """The forward-pass context of ``precision`` (a resolved one): nothing for fp32, else
    ``torch.autocast`` to bf16/fp16 on ``device``'s type. Weights stay fp32 either way."""
    dtype = _DTYPES.get(precision)
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def full_precision(device: torch.device) -> AbstractContextManager[Any]:
    """Leave any autocast region: what runs inside computes in the dtype of its inputs."""
    if device.type not in ("cpu", "cuda", "mps", "xpu"):
        return nullcontext()
    return torch.autocast(device_type=device.type, enabled=False)


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler | None:
    """fp16 needs its loss scaled so small gradients do not underflow; bf16 and fp32 do not."""
    return torch.amp.GradScaler(device.type) if precision == "fp16" else None


def set_deterministic(device: torch.device, on: bool) -> None:
    """``--deterministic``: deterministic kernels only (an op without one raises), cuDNN's
    autotuner off. The cuBLAS workspace variable must be set before CUDA starts its first
    cuBLAS handle, so set it early (``run()`` calls this before any model is built)."""
    if not on:
        return
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", _CUBLAS_WORKSPACE)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)


def to_device(batch: T, device: torch.device, keep_on_cpu: tuple[str, ...] = ()) -> T:
    """``batch`` (a dataclass of tensors) with its tensors on ``device``, moved once; the same
    object when it is already there. On CUDA the copy is asynchronous from pinned memory.
    Fields named in ``keep_on_cpu`` stay (e.g. the lengths ``pack_padded_sequence`` wants)."""
    if device.type == "cpu" or not dataclasses.is_dataclass(batch):
        return batch
    pin = device.type == "cuda"
    moved: dict[str, Any] = {}
    for item in dataclasses.fields(batch):
        value = getattr(batch, item.name)
        if isinstance(value, torch.Tensor) and item.name not in keep_on_cpu and value.device != device:
            source = value.pin_memory() if pin and not value.is_pinned() else value
            moved[item.name] = source.to(device, non_blocking=pin)
    return dataclasses.replace(batch, **moved) if moved else batch  # type: ignore[type-var]


def module_device(module: torch.nn.Module) -> torch.device:
    """The device of a module's first parameter (CPU for a module without any)."""
    for param in module.parameters():
        return param.device
    return torch.device("cpu")


def budget_chunks(order: Sequence[int], lengths: Sequence[int], max_items: int, max_tokens: int) -> list[list[int]]:
    """``order`` (indices sorted by length) cut into consecutive chunks of at most ``max_items``
    whose padded size (items x longest length) stays within ``max_tokens``; an item longer than
    the budget gets a chunk of its own. Prediction batches by this, so a batch of long sentences
    takes no more memory than one of short ones."""
    chunks: list[list[int]] = []
    chunk: list[int] = []
    longest = 0
    for i in order:
        size = max(1, int(lengths[i]))
        if chunk and (len(chunk) >= max_items or (len(chunk) + 1) * max(longest, size) > max_tokens):
            chunks.append(chunk)
            chunk, longest = [], 0
        chunk.append(i)
        longest = max(longest, size)
    if chunk:
        chunks.append(chunk)
    return chunks
