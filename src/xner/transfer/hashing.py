"""Content hashes that identify a pre-training run: same config + same data = same hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from xner.data.corpus import Sentence


def sentences_digest(sentences: Iterable[Sentence]) -> str:
    """sha256 of tokens and tags only (not file paths), so a moved copy of the data hashes alike."""
    digest = hashlib.sha256()
    for sentence in sentences:
        # \x1f / \x1e / \x1d separators cannot occur inside a CoNLL token or tag.
        digest.update("\x1f".join(sentence.tokens).encode("utf-8"))
        digest.update(b"\x1e")
        digest.update("\x1f".join(sentence.tags).encode("utf-8"))
        digest.update(b"\x1d")
    return digest.hexdigest()


def canonical(obj: Any) -> Any:
    """A JSON-able, order-independent view of configs, label maps and similar objects."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((canonical(v) for v in obj), key=lambda v: json.dumps(v, sort_keys=True))
    if hasattr(obj, "model_dump"):  # pydantic
        return canonical(obj.model_dump())
    if hasattr(obj, "to_json"):  # before dataclass: to_json drops fields like a map's file path
        return canonical(obj.to_json())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return canonical({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    if hasattr(obj, "__dict__"):
        return canonical({k: v for k, v in vars(obj).items() if not k.startswith("_")})
    return repr(obj)


def config_hash(parts: dict[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of ``parts``."""
    text = json.dumps(canonical(parts), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
