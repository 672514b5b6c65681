"""Checks a run makes before it reads any data or trains anything, so that a bad encoder name,
label map or starting model is one clear line at once, not a failure minutes in."""

from __future__ import annotations

from pathlib import Path

from xner.errors import ConfigError
from xner.run.config import RunConfig


def check_encoder(name: str, offline: bool | None = None) -> None:
    """Fail fast, in one line, on an encoder that cannot be had: a bad folder, or a hub name that is
    neither in the Hugging Face cache nor downloadable (a hub encoder is downloaded here, before any
    data is read; ``offline``: True forbids the network, None leaves it to HF_HUB_OFFLINE)."""
    from xner.models.encoder_files import resolve_encoder
    from xner.models.hub import check_model_folder

    check_model_folder(Path(resolve_encoder(name, offline)))


def check_runtime(cfg: RunConfig) -> tuple[str, str]:
    """The device and precision the run will use, resolved on this machine, before any data is
    read: a device that is not here is one ConfigError line (exit 2). ``--deterministic`` is set
    here too, before CUDA creates its first cuBLAS handle."""
    from xner.models.device import resolve_device, resolve_precision, set_deterministic

    device = resolve_device(cfg.runtime.device)
    precision = resolve_precision(cfg.runtime.precision, device)
    set_deterministic(device, cfg.runtime.deterministic)
    return str(device), precision


def preflight(cfg: RunConfig) -> None:
    """Everything that can be checked without the data: the encoder, the label map, the start model."""
    if cfg.backbone.name == "encoder" and cfg.backbone.init_model is None:
        check_encoder(str(cfg.backbone.settings["encoder"]), True if cfg.runtime.offline else None)
    if cfg.uses_label_map and cfg.data.label_map is not None:
        from xner.labels.normalise import load_label_map

        load_label_map(cfg.data.label_map)
    if cfg.backbone.init_model is not None:
        from xner.models.modeldir import META, read_meta

        theirs = read_meta(cfg.backbone.init_model)["label_mode"]
        if theirs is not None and theirs != cfg.data.label_mode:
            raise ConfigError(f"the starting model was trained on {theirs} labels, not {cfg.data.label_mode}",
                              cfg.backbone.init_model / META)
