"""Encoders from the Hugging Face Hub: a model name is downloaded into the standard Hugging Face
cache (``HF_HOME`` / ``HF_HUB_CACHE``, read when called) the first time, and read from the cache
from then on without asking the network, so a cached encoder works offline and with the hub down.

Only what an encoder needs is fetched: ``config.json``, the tokenizer files and safetensors
weights. Pickled weights (``pytorch_model.bin``) are never downloaded nor loaded: unpickling can
run code. ``--offline``, ``HF_HUB_OFFLINE=1`` or ``TRANSFORMERS_OFFLINE=1`` forbid the network.
Every way a name cannot be had is one ``ModelError`` naming it and what to do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path

from xner.errors import ModelError

CONFIG = "config.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "vocab.txt", "vocab.json", "merges.txt", "spm.model", "spiece.model",
                   "sentencepiece.bpe.model", "tokenizer.model")
# safetensors weights, whole or sharded; top level only (fnmatch: a pattern matches from the start).
SAFETENSORS = ("model.safetensors", "model-*-of-*.safetensors", "model.safetensors.index.json")
PICKLED = ("pytorch_model.bin", "pytorch_model-*-of-*.bin", "pytorch_model.bin.index.json")
ALLOW_PATTERNS = [CONFIG, *TOKENIZER_FILES, *SAFETENSORS]
_TRUE = {"1", "on", "yes", "true"}
_LOGIN = "log in with `hf auth login` or set HF_TOKEN"


def env_offline() -> bool:
    """Whether the environment forbids the network (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    return any(os.environ.get(var, "").strip().lower() in _TRUE for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_cache() -> Path:
    """The Hugging Face hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else huggingface_hub's default."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def hub_endpoint() -> str:
    """The hub's address: $HF_ENDPOINT, else huggingface_hub's default (https://huggingface.co)."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _matches(names: Iterable[str], patterns: Iterable[str]) -> list[str]:
    pats = list(patterns)
    return [n for n in names if any(fnmatch(n, p) for p in pats)]


def missing_parts(names: Iterable[str]) -> str | None:
    """What a model folder or repo with these file names lacks to be an encoder xner loads, or None."""
    names = list(names)
    if CONFIG not in names:
        return "has no config.json (not a Hugging Face model)"
    if not _matches(names, SAFETENSORS):
        if _matches(names, PICKLED):
            return ("has only pytorch_model.bin weights; xner loads safetensors weights only (a pickle file can "
                    "run code): pick a model with model.safetensors, or convert it")
        return "has no model.safetensors weights"
    if not _matches(names, TOKENIZER_FILES):
        return "has no tokenizer files (tokenizer.json, vocab.txt, vocab.json, ...)"
    return None


def check_model_folder(folder: Path) -> None:
    """A local encoder folder must hold a config, safetensors weights and a tokenizer."""
    problem = missing_parts(p.name for p in folder.iterdir()) if folder.is_dir() else "not found"
    if problem is not None:
        raise ModelError(f"encoder folder {problem}", folder)


def _check_name(name: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        raise ModelError(f"encoder {name!r}: no such folder, and not a Hugging Face model name "
                         "(org/name): pass a local model folder or a hub name") from None


def cached_snapshot(name: str) -> Path | None:
    """The cached snapshot folder of ``name`` at its main revision, never asking the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = snapshot_download(name, allow_patterns=ALLOW_PATTERNS, cache_dir=hub_cache(), local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return Path(str(folder))


def fetch_encoder(name: str, offline: bool | None = None) -> Path:
    """A local folder holding hub model ``name``: from the cache if it is there (no network),
    else downloaded, unless ``offline`` (None: the environment decides, see ``env_offline``)."""
    offline = env_offline() if offline is None else offline
    _check_name(name)
    cached = cached_snapshot(name)
    problem = missing_parts(p.name for p in cached.iterdir()) if cached is not None else None
    if cached is not None and problem is None:
        return cached
    if offline:
        where = "is not in" if problem is None else f"{problem}, in"
        why = "--offline" if not env_offline() else "HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set"
        raise ModelError(f"encoder {name!r} {where} the Hugging Face cache ({hub_cache()}) and downloads are off "
                         f"({why}): run once online to download it, or pass a local model folder")
    return _download(name)


def _download(name: str) -> Path:
    """Check the repo's file list (safetensors, config, tokenizer), then fetch just those files."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.utils import disable_progress_bars

    endpoint = hub_endpoint()
    if not sys.stderr.isatty():
        disable_progress_bars()
    try:
        info = HfApi(endpoint=endpoint).model_info(name)
        problem = missing_parts(s.rfilename for s in info.siblings or [])
        if problem is not None:
            raise ModelError(f"encoder {name!r} on the Hugging Face Hub ({endpoint}) {problem}")
        folder = Path(str(snapshot_download(name, allow_patterns=ALLOW_PATTERNS, cache_dir=hub_cache(),
                                            endpoint=endpoint)))
    except ModelError:
        raise
    except Exception as err:
        known = hub_error(name, endpoint, err)
        if known is None:
            raise
        raise known from err
    check_model_folder(folder)
    return folder


def hub_error(name: str, endpoint: str, err: Exception) -> ModelError | None:
    """The one line for a failed hub request, or None for an error that is not the hub's."""
    import httpx2
    from huggingface_hub.errors import (
        DisabledRepoError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    page = f"{endpoint}/{name}"
    if isinstance(err, GatedRepoError):
        return ModelError(f"encoder {name!r} is a gated model: accept its conditions at {page}, then {_LOGIN}")
    if isinstance(err, RepositoryNotFoundError):
        return ModelError(f"encoder {name!r}: no local folder of that name, and no model {name} on the Hugging Face "
                          f"Hub ({endpoint}) that you can see: check the name (a private model needs a login: "
                          f"{_LOGIN})")
    if isinstance(err, DisabledRepoError):
        return ModelError(f"encoder {name!r} is disabled on the Hugging Face Hub ({page}): pick another model")
    if isinstance(err, HfHubHTTPError) and err.response is not None:
        code = err.response.status_code
        if code in (401, 403):
            return ModelError(f"encoder {name!r}: the Hugging Face Hub refused access (HTTP {code}) to {page}: "
                              f"{_LOGIN} with access to it")
        return ModelError(f"encoder {name!r}: the Hugging Face Hub ({endpoint}) answered HTTP {code}: try again "
                          "later, or pass a local model folder")
    if isinstance(err, OfflineModeIsEnabled) or (
            isinstance(err, LocalEntryNotFoundError) and isinstance(err.__cause__, OfflineModeIsEnabled)):
        return ModelError(f"encoder {name!r} is not in the Hugging Face cache ({hub_cache()}) and downloads are off "
                          "(HF_HUB_OFFLINE is set): run once online to download it, or pass a local model folder")
    if isinstance(err, (httpx2.HTTPError, OSError)):
        return ModelError(f"encoder {name!r} cannot be downloaded: the Hugging Face Hub ({endpoint}) cannot be "
                          f"reached ({_detail(err)}): check the network, or pass a local model folder")
    return None


def _detail(err: BaseException) -> str:
    """The innermost cause's type and first line (huggingface_hub wraps connection errors)."""
    while err.__cause__ is not None:
        err = err.__cause__
    lines = str(err).strip().splitlines()
    text = f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."
